// List all characters: GET /v1/a2v/character.list
//
// Environment: A2V_TOKEN (your API key), A2V_BASE_URL (default https://api.a2v.example).
// Run with `go run character_list.go` (standard library only).
package main

import (
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

	req, err := http.NewRequest("GET", baseURL+"/v1/a2v/character.list", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("A2V_TOKEN"))

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
