"""requests.get: GET /validate on every regional host; certificate checks on."""
import requests
from common import REGIONS, key, url

for region in REGIONS:
    try:
        print(region, requests.get(url(region), headers={"X-Api-Key": key(region)}, timeout=30).status_code)
    except Exception as error:  # noqa: BLE001
        print(region, "error", type(error).__name__, error)
