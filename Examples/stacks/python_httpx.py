"""httpx: GET /validate on every regional host; certificate checks on (certifi by default)."""
import httpx
from common import REGIONS, key, url

with httpx.Client() as client:
    for region in REGIONS:
        try:
            print(region, client.get(url(region), headers={"X-Api-Key": key(region)}).status_code)
        except Exception as error:  # noqa: BLE001
            print(region, "error", type(error).__name__, error)
