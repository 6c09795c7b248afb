package endpoints

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultAllowsAzureOnly(t *testing.T) {
	a := Default()
	for _, ok := range []string{
		"https://myface.cognitiveservices.azure.com",
		"https://MyFace.CognitiveServices.Azure.com/",
		"https://gov.cognitiveservices.azure.us",
		"https://cn.cognitiveservices.azure.cn:443/face",
	} {
		require.True(t, a.Allows(ok), ok)
	}
	for _, bad := range []string{
		"https://cognitiveservices.azure.com",                      // the bare domain is no resource
		"https://myface.cognitiveservices.azure.com.evil.example",  // suffix of another domain
		"https://evilcognitiveservices.azure.com",                  // not a subdomain
		"https://myface.cognitiveservices.azure.com@evil.example/", // userinfo: the host is evil.example
		"https://127.0.0.1:8080",
		"ftp://myface.cognitiveservices.azure.com",
		"myface.cognitiveservices.azure.com",
		"",
	} {
		require.False(t, a.Allows(bad), bad)
	}
}

func TestPortsAndExactHosts(t *testing.T) {
	a := MustParse("127.0.0.1:8080, face.internal.example")
	require.True(t, a.Allows("http://127.0.0.1:8080"))
	require.False(t, a.Allows("http://127.0.0.1:8081"), "a pattern with a port allows only that port")
	require.True(t, a.Allows("https://face.internal.example:8443/x"), "a pattern without a port allows any")
	require.False(t, a.Allows("https://sub.face.internal.example"))
	require.Equal(t, "127.0.0.1:8080,face.internal.example", a.String())
}

func TestParseRefusesWhatCannotBeMeant(t *testing.T) {
	for _, bad := range []string{"", " , ", "https://x.example", "x.*.example", "*", "*."} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
}
