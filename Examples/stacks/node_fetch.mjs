// Node's built-in fetch (undici): reads no proxy variable in Node 20.
const regions = ["us", "us2", "us3", "eu", "ca", "au", "ap"];
for (const region of regions) {
  try {
    const response = await fetch(`https://${region}.api.insight.rapid7.com/validate`, {
      headers: { "X-Api-Key": process.env[`R7_KEY_DEMO_${region.toUpperCase()}_USER`] ?? "" },
    });
    console.log(region, response.status);
  } catch (error) {
    console.log(region, "error", error.cause?.code ?? error.message);
  }
}
