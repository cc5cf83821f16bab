// Generate a video of a character speaking an audio: POST /v1/a2v/video.generate
//
// Environment: A2V_TOKEN, A2V_MODEL_ID (e.g. eva_a0008), A2V_AUDIO_URL (a downloadable WAV or MP3),
// A2V_BASE_URL (default https://api.a2v.example).
// Run with `go run video_generate.go` (standard library only).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	baseURL := os.Getenv("A2V_BASE_URL")
	if baseURL == "" {
		baseURL = "https://api.a2v.example"
	}

	payload, err := json.Marshal(map[string]string{
		"model_id":  os.Getenv("A2V_MODEL_ID"),
		"audio_url": os.Getenv("A2V_AUDIO_URL"),
	})
	if err != nil {
		panic(err)
	}
	req, err := http.NewRequest("POST", baseURL+"/v1/a2v/video.generate", bytes.NewReader(payload))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("A2V_TOKEN"))
	req.Header.Set("Content-Type", "application/json")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(body))

	// The envelope's "code" is 0 on success; anything else is an error.
	var envelope struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil || envelope.Code != 0 {
		os.Exit(1)
	}
}
