"""aiohttp with a default session (no trust_env: it reads no proxy variable)."""
import asyncio

import aiohttp
from common import REGIONS, key, url


async def main():
    async with aiohttp.ClientSession() as session:
        for region in REGIONS:
            try:
                async with session.get(url(region), headers={"X-Api-Key": key(region)}) as response:
                    print(region, response.status)
            except Exception as error:  # noqa: BLE001
                print(region, "error", type(error).__name__, error)

asyncio.run(main())
