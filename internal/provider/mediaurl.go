package provider

import (
	"errors"
	"fmt"
)

// ErrMediaURL is wrapped by the error of a media download whose short-lived URL was refused (expired, or
// signed for another moment): a new lookup gives a new URL, so the download is worth trying again.
var ErrMediaURL = errors.New("provider: media download URL refused or expired")

// MediaURLError classifies a failure of the second step of a Cloud API media download (fetching the URL the
// lookup gave). A 4xx answer there means the URL expired or was refused, not that the media is gone: it becomes
// a ClassRetry *Error wrapping ErrMediaURL. Other errors are returned as they are.
func MediaURLError(kind string, err error) error {
	var pe *Error
	if !errors.As(err, &pe) || pe.HTTPStatus < 400 || pe.HTTPStatus >= 500 || pe.HTTPStatus == 401 || pe.HTTPStatus == 429 {
		return err
	}
	return &Error{Provider: kind, Op: OpDownloadMedia, HTTPStatus: pe.HTTPStatus, Class: ClassRetry,
		Err:     fmt.Errorf("%w: %w", ErrMediaURL, err),
		Message: fmt.Sprintf("The media download URL was refused (HTTP %d): it expires 5 minutes after the lookup. wagate will look the media up again.", pe.HTTPStatus)}
}
