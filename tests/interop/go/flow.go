// The A2V flow with the client openapi-generator's `go` generator made from openapi.yaml with its default
// options. It lists characters, generates a video, polls video.get until the task ends (each answer is
// parsed into one variant of the Video oneOf, told apart by the spec alone), has a task fail, and reads
// the typed error of four bad requests. It prints what it saw as JSON for tests/interop/test_go.py.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	openapi "github.com/GIT_USER_ID/GIT_REPO_ID"
)

func client(baseURL string, prefer string) *openapi.APIClient {
	cfg := openapi.NewConfiguration()
	cfg.Servers = openapi.ServerConfigurations{{URL: baseURL}}
	if prefer != "" {
		cfg.AddDefaultHeader("Prefer", prefer)
	}
	return openapi.NewAPIClient(cfg)
}

// variant names the Video oneOf member the client parsed an answer into.
func variant(video openapi.Video) (string, *openapi.VideoFailed, *openapi.VideoFinished) {
	switch {
	case video.VideoPending != nil:
		return "VideoPending", nil, nil
	case video.VideoInProgress != nil:
		return "VideoInProgress", nil, nil
	case video.VideoFinished != nil:
		return "VideoFinished", nil, video.VideoFinished
	case video.VideoFailed != nil:
		return "VideoFailed", video.VideoFailed, nil
	}
	return "none", nil, nil
}

func poll(ctx context.Context, api *openapi.APIClient, videoID string) ([]string, openapi.Video) {
	seen := []string{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		answer, _, err := api.A2vAPI.GetVideo(ctx).VideoId(videoID).Execute()
		if err != nil {
			fail("video.get: %v", err)
		}
		name, _, _ := variant(answer.Data)
		if len(seen) == 0 || seen[len(seen)-1] != name {
			seen = append(seen, name)
		}
		if name == "VideoFinished" || name == "VideoFailed" {
			return seen, answer.Data
		}
		time.Sleep(100 * time.Millisecond)
	}
	fail("task %s did not end within 60 s", videoID)
	return nil, openapi.Video{}
}

// typed is [HTTP status, the code of the typed error model, whether it equals the expected constant].
func typed(response *http.Response, err error) []interface{} {
	if err == nil {
		fail("expected an error")
	}
	generic, ok := err.(*openapi.GenericOpenAPIError)
	if !ok {
		fail("not a GenericOpenAPIError: %v", err)
	}
	switch model := generic.Model().(type) {
	case openapi.Error400:
		return []interface{}{response.StatusCode, model.Code, model.Code == openapi.INVALID_PARAMETER, model.Message}
	case openapi.Error401:
		return []interface{}{response.StatusCode, model.Code, model.Code == openapi.UNAUTHORIZED}
	case openapi.Error404:
		known := model.Code == openapi.MODEL_NOT_FOUND || model.Code == openapi.VIDEO_NOT_FOUND
		return []interface{}{response.StatusCode, model.Code, known}
	}
	fail("untyped error model %T: %s", generic.Model(), generic.Body())
	return nil
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	baseURL, audioURL, token := os.Args[1], os.Args[2], os.Args[3]
	anonymous := context.Background()
	ctx := context.WithValue(anonymous, openapi.ContextAccessToken, token)
	api := client(baseURL, "duration=2")
	out := map[string]interface{}{}

	pong, _, err := api.SystemAPI.Ping(anonymous).Execute()
	if err != nil {
		fail("ping: %v", err)
	}
	out["ping"] = pong.Data.Pong

	characters, _, err := api.A2vAPI.ListCharacters(ctx).Execute()
	if err != nil {
		fail("character.list: %v", err)
	}
	ids := []string{}
	for _, character := range characters.Data {
		ids = append(ids, character.ModelId)
	}
	out["characters"] = ids

	request := openapi.NewGenerateRequest("eva_a0008", audioURL)
	accepted, _, err := api.A2vAPI.GenerateVideo(ctx).GenerateRequest(*request).Execute()
	if err != nil {
		fail("video.generate: %v", err)
	}
	seen, last := poll(ctx, api, accepted.Data.VideoId)
	out["variants"] = seen
	if _, _, finished := variant(last); finished != nil {
		out["finished"] = []string{finished.VideoUrl, finished.GetMaskVideoUrl()} // the mask is optional
	}

	doomed, _, err := client(baseURL, "outcome=error, error_code=10003").A2vAPI.GenerateVideo(ctx).
		GenerateRequest(*request).Execute()
	if err != nil {
		fail("video.generate: %v", err)
	}
	_, ended := poll(ctx, api, doomed.Data.VideoId)
	if _, failed, _ := variant(ended); failed != nil {
		code := failed.GetError().Code // the error object is optional
		out["failed"] = []interface{}{"VideoFailed", code, code == openapi.AUDIO_NOT_DECODABLE}
	}

	unknownModel := openapi.NewGenerateRequest("eva_x9999", audioURL)
	_, response, err := api.A2vAPI.GenerateVideo(ctx).GenerateRequest(*unknownModel).Execute()
	out["unknownModel"] = typed(response, err)

	// The client does not check requests against the patterns, so an ftp URL reaches the service.
	badURL := openapi.NewGenerateRequest("eva_a0008", "ftp://127.0.0.1/a.wav")
	_, response, err = api.A2vAPI.GenerateVideo(ctx).GenerateRequest(*badURL).Execute()
	out["badUrl"] = typed(response, err)

	_, response, err = api.A2vAPI.GetVideo(ctx).VideoId("00000000000000000000000000000000").Execute()
	out["unknownId"] = typed(response, err)

	_, response, err = api.A2vAPI.ListCharacters(anonymous).Execute()
	out["noToken"] = typed(response, err)

	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
}
