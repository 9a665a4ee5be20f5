package m3o_test

// These tests call a live platform. tests/clients/test_go_client.py starts one
// and sets M3O_TEST_ADDRESS, M3O_TEST_TOKEN (a funded key) and
// M3O_TEST_BROKE_TOKEN (a key whose balance is zero); without them they skip.
// M3O_TEST_STREAMS=1 means the platform also serves stream endpoints.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"m3o.local/m3o"
	"m3o.local/m3o/db"
	"m3o.local/m3o/helloworld"
	"m3o.local/m3o/transport"
)

func client(t *testing.T, token string) *m3o.Client {
	t.Helper()
	address := os.Getenv("M3O_TEST_ADDRESS")
	if address == "" {
		t.Skip("set M3O_TEST_ADDRESS, M3O_TEST_TOKEN and M3O_TEST_BROKE_TOKEN to a live platform")
	}
	return m3o.New(token, m3o.WithAddress(address), m3o.WithTimeout(20*time.Second))
}

func TestHelloworldCall(t *testing.T) {
	c := client(t, os.Getenv("M3O_TEST_TOKEN"))
	rsp, err := c.Helloworld.Call(context.Background(), &helloworld.CallRequest{Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if rsp.Message != "Hello Alice" {
		t.Fatalf("message = %q", rsp.Message)
	}
}

func TestDBCreateThenRead(t *testing.T) {
	c := client(t, os.Getenv("M3O_TEST_TOKEN"))
	ctx := context.Background()
	created, err := c.DB.Create(ctx, &db.CreateRequest{Table: "go_people", Record: map[string]any{"name": "Ada", "born": 1815}})
	if err != nil {
		t.Fatal(err)
	}
	read, err := c.DB.Read(ctx, &db.ReadRequest{Table: "go_people", ID: created.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Records) != 1 || read.Records[0]["name"] != "Ada" || read.Records[0]["born"] != float64(1815) {
		t.Fatalf("records = %v", read.Records)
	}
	// A nil request sends an empty object.
	tables, err := c.DB.ListTables(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables.Tables) != 1 || tables.Tables[0] != "go_people" {
		t.Fatalf("tables = %v", tables.Tables)
	}
}

func TestBadRequestIsTypedError(t *testing.T) {
	c := client(t, os.Getenv("M3O_TEST_TOKEN"))
	_, err := c.Helloworld.Call(context.Background(), &helloworld.CallRequest{})
	var apiErr *m3o.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *m3o.Error", err)
	}
	if apiErr.Code != 400 || apiErr.Fields["name"] == "" {
		t.Fatalf("error = %+v", apiErr)
	}
}

func TestPaymentRequiredIsTypedError(t *testing.T) {
	c := client(t, os.Getenv("M3O_TEST_BROKE_TOKEN"))
	_, err := c.Helloworld.Call(context.Background(), &helloworld.CallRequest{Name: "Alice"})
	var apiErr *m3o.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *m3o.Error", err)
	}
	if apiErr.Code != 402 || apiErr.ID != "v1.insufficient_credit" || apiErr.Status != "Payment Required" || apiErr.RequestID == "" {
		t.Fatalf("error = %+v", apiErr)
	}
}

func TestCallAnyEndpointByName(t *testing.T) {
	c := client(t, os.Getenv("M3O_TEST_TOKEN"))
	var rsp map[string]any
	if err := c.Call(context.Background(), "helloworld", "call", map[string]any{"name": "Bob"}, &rsp); err != nil {
		t.Fatal(err)
	}
	if rsp["message"] != "Hello Bob" {
		t.Fatalf("rsp = %v", rsp)
	}
}

func TestUnreachableAddressIsNetworkError(t *testing.T) {
	client(t, "")
	address := os.Getenv("M3O_TEST_CLOSED_ADDRESS")
	if address == "" {
		address = "http://127.0.0.1:9"
	}
	c := m3o.New("m3o_x", m3o.WithAddress(address), m3o.WithTimeout(5*time.Second))
	_, err := c.Helloworld.Call(context.Background(), &helloworld.CallRequest{Name: "Alice"})
	if !transport.IsNetworkError(err) {
		t.Fatalf("err = %v, want a network error", err)
	}
}

func streamClient(t *testing.T, token string) *m3o.Client {
	t.Helper()
	c := client(t, token)
	if os.Getenv("M3O_TEST_STREAMS") != "1" {
		t.Skip("set M3O_TEST_STREAMS=1 when the platform at M3O_TEST_ADDRESS serves streams")
	}
	return c
}

// greetings reads a stream to its end: every message's text, and the error
// that ended it, nil at io.EOF.
func greetings[T any](stream *transport.Stream[T], text func(*T) string) ([]string, error) {
	defer stream.Close()
	var messages []string
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return messages, nil
		}
		if err != nil {
			return messages, err
		}
		messages = append(messages, text(msg))
	}
}

func TestHelloworldStreamReceivesEveryMessage(t *testing.T) {
	c := streamClient(t, os.Getenv("M3O_TEST_TOKEN"))
	count := int64(3)
	stream, err := c.Helloworld.Stream(context.Background(), &helloworld.StreamRequest{Name: "Alice", Messages: &count})
	if err != nil {
		t.Fatal(err)
	}
	messages, err := greetings(stream, func(msg *helloworld.StreamResponse) string { return msg.Message })
	if err != nil {
		t.Fatal(err)
	}
	if len(messages) != 3 || messages[0] != "Hello Alice" || messages[2] != "Hello Alice" {
		t.Fatalf("messages = %v", messages)
	}
}

func TestStreamErrorsAreTypedErrors(t *testing.T) {
	c := streamClient(t, os.Getenv("M3O_TEST_TOKEN"))
	_, err := c.Helloworld.Stream(context.Background(), &helloworld.StreamRequest{})
	var apiErr *m3o.Error
	if !errors.As(err, &apiErr) || apiErr.Code != 400 || apiErr.Fields["name"] == "" {
		t.Fatalf("err = %v, want a 400 *m3o.Error naming the field", err)
	}

	// A stream opens on an empty balance and ends with a 402 error frame
	// before its first message, which is charged.
	broke := streamClient(t, os.Getenv("M3O_TEST_BROKE_TOKEN"))
	stream, err := broke.Stream(context.Background(), "helloworld", "Stream", map[string]any{"name": "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	msg, err := stream.Recv()
	if !errors.As(err, &apiErr) || apiErr.Code != 402 || apiErr.ID != "v1.insufficient_credit" || apiErr.Status != "Payment Required" {
		t.Fatalf("message %s, err = %v, want the 402 error frame as *m3o.Error", msg, err)
	}
}

// A local server speaks the platform's stream format, NDJSON lines closed by
// an error frame in the envelope, so the decoding is tested on its own.
func TestStreamDecodesNDJSONAndErrorFrames(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req helloworld.CallRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprintf(w, "{\"message\": \"Hello %s 0\"}\n{\"message\": \"Hello %s 1\"}\n", req.Name, req.Name)
		fmt.Fprintln(w, `{"id": "v1.insufficient_credit", "code": 402, "detail": "Balance ran out.", "status": "Payment Required"}`)
	}))
	defer server.Close()

	c := m3o.New("m3o_x", m3o.WithAddress(server.URL))
	stream, err := transport.OpenStream[helloworld.CallResponse](context.Background(), c.Client, "helloworld", "Stream", &helloworld.CallRequest{Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	messages, err := greetings(stream, func(msg *helloworld.CallResponse) string { return msg.Message })
	var apiErr *m3o.Error
	if !errors.As(err, &apiErr) || apiErr.Code != 402 {
		t.Fatalf("err = %v, want the 402 error frame", err)
	}
	if len(messages) != 2 || messages[0] != "Hello Alice 0" || messages[1] != "Hello Alice 1" {
		t.Fatalf("messages = %v", messages)
	}
}
