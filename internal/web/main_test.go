package web_test

import (
	"testing"

	"github.com/wagate/wagate/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m) }
