/*
 * A self-signed certificate for 127.0.0.1, valid for 100 years, made for the TLS tests with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
 *     -subj "/CN=cloudreve-sync test" -addext "subjectAltName=IP:127.0.0.1"
 * The key protects nothing but these tests.
 */

export const certificate = `-----BEGIN CERTIFICATE-----
MIIBpTCCAUqgAwIBAgIUQwpXqq320CYRnEB0dVsL0q98cZwwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTY2xvdWRyZXZlLXN5bmMgdGVzdDAgFw0yNjExMjkyMTU2MDda
GA8yMTI2MTEwNTIxNTYwN1owHjEcMBoGA1UEAwwTY2xvdWRyZXZlLXN5bmMgdGVz
dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJcL+2wRUvrXyj2GBdHQ+2cCjfzz
a1J0hRHo9gXCc0zrcmuVZfoeRt9XE/1NYnP2TFn6Ocyru8thB89r76BjEHqjZDBi
MB0GA1UdDgQWBBTbWDWpOHJkr8Gq4zG8V6Qudv2HFTAfBgNVHSMEGDAWgBTbWDWp
OHJkr8Gq4zG8V6Qudv2HFTAPBgNVHRMBAf8EBTADAQH/MA8GA1UdEQQIMAaHBH8A
AAEwCgYIKoZIzj0EAwIDSQAwRgIhAOvj2ewHu8JVIaUbBBa26Lc7U3lw4PXm+3r9
Bd9dlQffAiEAkWLr4nYOAwDagSfSqBmfrikygu2hrndIESuF3wL0JWk=
-----END CERTIFICATE-----
`;

export const privateKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM6ZgBX/jlFCpisBC
dRsCyVhUNtef7E10VqxQjB76KCOhRANCAASXC/tsEVL618o9hgXR0PtnAo3882tS
dIUR6PYFwnNM63JrlWX6HkbfVxP9TWJz9kxZ+jnMq7vLYQfPa++gYxB6
-----END PRIVATE KEY-----
`;
