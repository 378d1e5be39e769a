// Go's net/http: reads HTTPS_PROXY and SSL_CERT_FILE / SSL_CERT_DIR.
package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
)

func main() {
	for _, region := range []string{"us", "us2", "us3", "eu", "ca", "au", "ap"} {
		request, _ := http.NewRequest("GET", "https://"+region+".api.insight.rapid7.com/validate", nil)
		request.Header.Set("X-Api-Key", os.Getenv("R7_KEY_DEMO_"+strings.ToUpper(region)+"_USER"))
		response, err := http.DefaultClient.Do(request)
		if err != nil {
			fmt.Println(region, "error", err)
			continue
		}
		response.Body.Close()
		fmt.Println(region, response.StatusCode)
	}
}
