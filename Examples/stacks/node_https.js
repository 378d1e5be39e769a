// Node's https.request: reads no proxy variable.
const https = require("https");
const regions = ["us", "us2", "us3", "eu", "ca", "au", "ap"];
function get(region) {
  return new Promise((resolve) => {
    const request = https.request(`https://${region}.api.insight.rapid7.com/validate`,
      { headers: { "X-Api-Key": process.env[`R7_KEY_DEMO_${region.toUpperCase()}_USER`] ?? "" } },
      (response) => { response.resume(); response.on("end", () => resolve(response.statusCode)); });
    request.on("error", (error) => resolve(`error ${error.code ?? error.message}`));
    request.end();
  });
}
(async () => { for (const region of regions) console.log(region, await get(region)); })();
