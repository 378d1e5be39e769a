"""Python's urllib: GET /validate on every regional host; certificate checks on."""
import urllib.request
from common import REGIONS, key, url

for region in REGIONS:
    try:
        with urllib.request.urlopen(urllib.request.Request(url(region), headers={"X-Api-Key": key(region)})) as response:
            print(region, response.status)
    except Exception as error:  # noqa: BLE001 - the matrix prints what went wrong
        print(region, "error", type(error).__name__, error)
