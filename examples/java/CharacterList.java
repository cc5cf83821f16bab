// List all characters: GET /v1/a2v/character.list
//
// Environment: A2V_TOKEN (your API key), A2V_BASE_URL (default https://api.a2v.example).
// Run with `java CharacterList.java` (Java 11+, java.net.http only, no libraries).

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class CharacterList {
    public static void main(String[] args) throws Exception {
        String baseUrl = System.getenv().getOrDefault("A2V_BASE_URL", "https://api.a2v.example");

        HttpRequest request = HttpRequest.newBuilder()
                .uri(URI.create(baseUrl + "/v1/a2v/character.list"))
                .header("Authorization", "Bearer " + System.getenv("A2V_TOKEN"))
                .GET()
                .build();
        // HTTP/1.1: over plain http (a local mock) the default HTTP/2 client first tries an h2c
        // upgrade, which some servers answer by dropping the request body.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println(response.body());

        // The envelope's "code" is 0 on success; anything else is an error.
        if (envelopeCode(response.body()) != 0) {
            System.exit(1);
        }
    }

    /** The envelope's top-level "code" (a tiny scan, so the example needs no JSON library). */
    static int envelopeCode(String json) {
        int depth = 0;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == '"') {
                int end = i + 1;
                while (json.charAt(end) != '"') {
                    end += json.charAt(end) == '\\' ? 2 : 1;
                }
                String text = json.substring(i + 1, end);
                i = end;
                int next = end + 1;
                while (next < json.length() && Character.isWhitespace(json.charAt(next))) {
                    next++;
                }
                if (depth == 1 && text.equals("code") && next < json.length() && json.charAt(next) == ':') {
                    int start = next + 1;
                    while (Character.isWhitespace(json.charAt(start))) {
                        start++;
                    }
                    int stop = start;
                    while (stop < json.length() && (json.charAt(stop) == '-' || Character.isDigit(json.charAt(stop)))) {
                        stop++;
                    }
                    return Integer.parseInt(json.substring(start, stop));
                }
            }
        }
        throw new IllegalArgumentException("no top-level \"code\" in: " + json);
    }
}
