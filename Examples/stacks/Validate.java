// Java 17's HttpClient: reads no proxy variable and trusts only the JVM's truststore.
// Run as a single-file program: java Validate.java
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Validate {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder().proxy(java.net.ProxySelector.getDefault()).build();
        for (String region : new String[] {"us", "us2", "us3", "eu", "ca", "au", "ap"}) {
            String key = System.getenv().getOrDefault("R7_KEY_DEMO_" + region.toUpperCase() + "_USER", "");
            try {
                HttpRequest request = HttpRequest.newBuilder(URI.create("https://" + region + ".api.insight.rapid7.com/validate"))
                    .header("X-Api-Key", key).build();
                System.out.println(region + " " + client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode());
            } catch (Exception error) {
                System.out.println(region + " error " + error);
            }
        }
    }
}
