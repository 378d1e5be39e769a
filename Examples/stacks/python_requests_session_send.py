"""requests.Session().send(prepared), as Rapid7's InsightConnect plugins send: it takes the
proxy from the environment but verifies against certifi, never REQUESTS_CA_BUNDLE."""
import requests
from common import REGIONS, key, url

session = requests.Session()
for region in REGIONS:
    try:
        prepared = requests.Request("GET", url(region), headers={"X-Api-Key": key(region)}).prepare()
        print(region, session.send(prepared, timeout=30).status_code)
    except Exception as error:  # noqa: BLE001
        print(region, "error", type(error).__name__, error)
