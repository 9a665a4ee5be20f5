// Package transport sends calls to an M3O platform: POST /v1/<service>/<endpoint>
// with a Bearer key, JSON in and out, and the error envelope decoded into *Error.
package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout is the time a call may take unless WithTimeout sets another.
const DefaultTimeout = 30 * time.Second

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 1 << 20

// Error is the platform's error envelope: {"id", "code", "detail", "status", "fields"}.
type Error struct {
	ID string `json:"id"`

	Code int `json:"code"`

	Detail string `json:"detail"`

	Status string `json:"status"`

	// Fields maps each invalid field to what is wrong with it (400 only).
	Fields map[string]string `json:"fields,omitempty"`

	// RequestID is the X-Request-Id of the failed call, to quote to support.
	RequestID string `json:"-"`

	// RetryAfter is the Retry-After of a 429 or 503, zero when absent.
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.ID, e.Detail)
}

// NetworkError means the platform could not be reached, timed out, or
// returned a response that is not the API's.
type NetworkError struct {
	Err error
}

func (e *NetworkError) Error() string {
	return "m3o: " + e.Err.Error()
}

func (e *NetworkError) Unwrap() error {
	return e.Err
}

// Client holds the key, address and HTTP client every service calls through.
type Client struct {
	Token string

	Address string

	Timeout time.Duration

	HTTPClient *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithAddress sets the platform's base URL, such as http://127.0.0.1:8000.
func WithAddress(address string) Option {
	return func(c *Client) {
		c.Address = strings.TrimRight(address, "/")
	}
}

// WithTimeout sets how long a call may take.
func WithTimeout(timeout time.Duration) Option {
	return func(c *Client) {
		c.Timeout = timeout
	}
}

// WithHTTPClient sets the HTTP client calls go through.
func WithHTTPClient(client *http.Client) Option {
	return func(c *Client) {
		c.HTTPClient = client
	}
}

// New returns a client for token, or for M3O_API_TOKEN when token is empty.
// The address is M3O_API_ADDRESS when set, else defaultAddress, unless an
// option overrides it.
func New(token, defaultAddress string, opts ...Option) *Client {
	if token == "" {
		token = os.Getenv("M3O_API_TOKEN")
	}
	address := os.Getenv("M3O_API_ADDRESS")
	if address == "" {
		address = defaultAddress
	}
	c := &Client{Token: token, Address: strings.TrimRight(address, "/"), Timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(c)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return c
}

func (c *Client) post(ctx context.Context, service, endpoint string, req any, accept string) (*http.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("m3o: encoding the request: %w", err)
	}
	if string(body) == "null" {
		// A nil request pointer means no fields, and endpoints take an object.
		body = []byte("{}")
	}
	url := c.Address + "/v1/" + service + "/" + endpoint
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &NetworkError{Err: err}
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Accept", accept)
	if c.Token != "" {
		httpReq.Header.Set("Authorization", "Bearer "+c.Token)
	}
	rsp, err := c.HTTPClient.Do(httpReq)
	if err != nil {
		return nil, &NetworkError{Err: err}
	}
	if rsp.StatusCode >= 400 {
		defer rsp.Body.Close()
		return nil, decodeError(rsp)
	}
	return rsp, nil
}

func decodeError(rsp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(rsp.Body, maxErrorBody))
	if err != nil {
		return &NetworkError{Err: err}
	}
	apiErr := &Error{}
	if json.Unmarshal(data, apiErr) != nil || apiErr.ID == "" {
		apiErr = &Error{ID: "client.unexpected_response", Detail: fmt.Sprintf("HTTP %d without an error envelope.", rsp.StatusCode)}
	}
	if apiErr.Code == 0 {
		apiErr.Code = rsp.StatusCode
	}
	apiErr.RequestID = rsp.Header.Get("X-Request-Id")
	if seconds, err := strconv.Atoi(rsp.Header.Get("Retry-After")); err == nil {
		apiErr.RetryAfter = time.Duration(seconds) * time.Second
	}
	return apiErr
}

// Call sends req to an endpoint and decodes its response into rsp. The error
// is an *Error for the platform's envelope and a *NetworkError otherwise.
func (c *Client) Call(ctx context.Context, service, endpoint string, req, rsp any) error {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	httpRsp, err := c.post(ctx, service, endpoint, req, "application/json")
	if err != nil {
		return err
	}
	defer httpRsp.Body.Close()
	if rsp == nil {
		_, err = io.Copy(io.Discard, httpRsp.Body)
		return err
	}
	if err := json.NewDecoder(httpRsp.Body).Decode(rsp); err != nil {
		return &NetworkError{Err: fmt.Errorf("decoding the response of %s/%s: %w", service, endpoint, err)}
	}
	return nil
}

// Stream reads the messages of a stream endpoint, one at a time.
//
// It reads the newline-delimited JSON the platform sends in answer to a POST.
// The client's Timeout does not apply to a stream; cancel ctx to end it.
type Stream[T any] struct {
	body    io.ReadCloser
	scanner *bufio.Scanner
}

// OpenStream starts a stream endpoint whose messages decode into T.
func OpenStream[T any](ctx context.Context, c *Client, service, endpoint string, req any) (*Stream[T], error) {
	rsp, err := c.post(ctx, service, endpoint, req, "application/x-ndjson")
	if err != nil {
		return nil, err
	}
	scanner := bufio.NewScanner(rsp.Body)
	scanner.Buffer(make([]byte, 64*1024), 16<<20)
	return &Stream[T]{body: rsp.Body, scanner: scanner}, nil
}

// Stream starts any stream endpoint by name, with messages as raw JSON.
func (c *Client) Stream(ctx context.Context, service, endpoint string, req any) (*Stream[json.RawMessage], error) {
	return OpenStream[json.RawMessage](ctx, c, service, endpoint, req)
}

// Recv returns the next message, io.EOF at the end of the stream, or an
// *Error when the platform closes the stream with an error frame.
func (s *Stream[T]) Recv() (*T, error) {
	for s.scanner.Scan() {
		line := bytes.TrimSpace(s.scanner.Bytes())
		if len(line) == 0 {
			continue
		}
		frame := &Error{}
		if json.Unmarshal(line, frame) == nil && frame.ID != "" && frame.Code >= 400 {
			return nil, frame
		}
		msg := new(T)
		if err := json.Unmarshal(line, msg); err != nil {
			return nil, &NetworkError{Err: fmt.Errorf("decoding a stream message: %w", err)}
		}
		return msg, nil
	}
	if err := s.scanner.Err(); err != nil {
		return nil, &NetworkError{Err: err}
	}
	return nil, io.EOF
}

// Close ends the stream.
func (s *Stream[T]) Close() error {
	return s.body.Close()
}

// IsNetworkError reports whether err is a *NetworkError.
func IsNetworkError(err error) bool {
	var netErr *NetworkError
	return errors.As(err, &netErr)
}
