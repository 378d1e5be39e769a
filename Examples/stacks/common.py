"""What every Python stack client here shares: the regions and each region's demo key."""
import os

REGIONS = ["us", "us2", "us3", "eu", "ca", "au", "ap"]


def key(region):
    return os.environ.get(f"R7_KEY_DEMO_{region.upper()}_USER", "")


def url(region):
    return f"https://{region}.api.insight.rapid7.com/validate"
