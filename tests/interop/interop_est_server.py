#!/usr/bin/python3
"""An independent EST (RFC 7030) server for the interop tests.

Why it exists: the project's own EST test server (tests/est_server/) is
built on OpenSSL and on core/'s certs-only encoder, like the client it
tests, so the two agree by construction. This one shares nothing with
core/: the PKCS#7 certs-only SignedData, the CSR attributes and the
SignedData and EnvelopedData of an encrypted server-generated key are
encoded here with python3-asn1crypto; python3-cryptography only makes keys,
signs and does the raw RSA and AES operations; HTTPS is the Python standard
library. It answers the way several real CAs do: HTTP/1.1, base64 broken
into 76-column CRLF lines, `application/pkcs7-mime; smime-type=certs-only`.

  --dir DIR        writes root.crt (the TLS anchor, self-signed), ca.crt
                   (the issuing CA), port (once it listens) and
                   requests.log (one line per request) there
  --user U --password P
                   HTTP Basic credentials for simpleenroll and serverkeygen
                   (a TLS client certificate this CA issued works too)
  --pending N      the first N enrollment requests get 202 + Retry-After
  --retry-after V  the Retry-After value (default 1)
  --csrattrs       /csrattrs asks for a challengePassword, an EC P-256 key,
                   ecdsa-with-SHA256 and the macAddress extension; a request
                   then needs the challengePassword given with --challenge
  --challenge PW   the challengePassword --csrattrs asks for
  --days N         validity of issued certificates (default 1)
  --plain-key      serverkeygen: the key as PKCS#8 even when the request
                   asks for it encrypted (a server that ignores the ask)

/cacerts answers the root and the issuing CA (in that order);
/simplereenroll needs a TLS client certificate this CA issued, and the
request's subject must be that certificate's (RFC 7030 section 4.2.2);
/serverkeygen makes an EC P-256 key and returns it as PKCS#8, or, when the
request carries the AsymmetricDecryptKeyIdentifier attribute (RFC 7030
4.4.1.1) naming the key of the TLS client certificate, as RFC 7030 4.4.2
asks: an AsymmetricKeyPackage in a SignedData (signed by the issuing CA)
in an EnvelopedData for that certificate (RSA key transport, AES-256-CBC),
`application/pkcs7-mime; smime-type=server-generated-key`.
CA labels (/.well-known/est/LABEL/...) are accepted and logged.
"""

import argparse
import base64
import datetime
import ipaddress
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import cms as a_cms
from asn1crypto import core as a_core
from asn1crypto import csr as a_csr
from asn1crypto import keys as a_keys
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from serve_loopback import publish_port_and_serve

OID_CHALLENGE_PASSWORD = "1.2.840.113549.1.9.7"
OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_P256 = "1.2.840.10045.3.1.7"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_MAC_ADDRESS = "1.3.6.1.1.1.1.22"
# RFC 7030 section 4.4.1.1: AsymmetricDecryptKeyIdentifier; RFC 5958
# section 3: the asymmetric key package content type.
OID_ASYMMETRIC_DECRYPT_KEY_ID = "1.2.840.113549.1.9.16.2.54"
OID_KEY_PACKAGE = "2.16.840.1.101.2.1.2.78.5"
PKCS7 = "application/pkcs7-mime"
BOUNDARY = "estPyBoundary7030"


# --- ASN.1 of RFC 7030 section 4.5.2 (CsrAttrs) ------------------------------

class OidSet(a_core.SetOf):
    _child_spec = a_core.ObjectIdentifier


class CsrAttribute(a_core.Sequence):
    _fields = [("type", a_core.ObjectIdentifier), ("values", OidSet)]


class AttrOrOid(a_core.Choice):
    _alternatives = [("oid", a_core.ObjectIdentifier), ("attribute", CsrAttribute)]


class CsrAttrs(a_core.SequenceOf):
    _child_spec = AttrOrOid


def csr_attrs_der():
    return CsrAttrs([
        AttrOrOid(name="oid", value=OID_CHALLENGE_PASSWORD),
        AttrOrOid(name="attribute", value={"type": OID_EC_PUBLIC_KEY, "values": [OID_P256]}),
        AttrOrOid(name="attribute",
                  value={"type": OID_EXTENSION_REQUEST, "values": [OID_MAC_ADDRESS]}),
        AttrOrOid(name="oid", value=OID_ECDSA_SHA256),
    ]).dump()


# --- PKCS#7 / CMS -------------------------------------------------------------

def certs_only(ders):
    """A degenerate SignedData (RFC 5652 5.1, RFC 7030 4.1.3): certificates,
    no signers, no content."""
    return a_cms.ContentInfo({
        "content_type": "signed_data",
        "content": a_cms.SignedData({
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "data"},
            "certificates": [a_x509.Certificate.load(d) for d in ders],
            "signer_infos": [],
        }),
    }).dump()


class AsymmetricKeyPackage(a_core.SequenceOf):  # RFC 5958 section 3
    _child_spec = a_keys.PrivateKeyInfo


def signed_key_package(pkcs8_der, signer_cert, signer_key):
    """RFC 7030 4.4.2 / RFC 5958 section 4: the key as an
    AsymmetricKeyPackage in a SignedData signed by the CA that made it
    (signed attributes contentType and messageDigest, SHA-256, RSA)."""
    package = AsymmetricKeyPackage([a_keys.PrivateKeyInfo.load(pkcs8_der)]).dump()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(package)
    attrs = a_cms.CMSAttributes([
        {"type": "content_type", "values": [OID_KEY_PACKAGE]},
        {"type": "message_digest", "values": [digest.finalize()]},
    ])
    # The signature covers the attributes DER-encoded as a SET OF
    # (RFC 5652 5.4), not with the [0] tag they carry in SignerInfo.
    signature = signer_key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    cert = a_x509.Certificate.load(der(signer_cert))
    signed = a_cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": OID_KEY_PACKAGE,
                               "content": a_core.ParsableOctetString(package)},
        "certificates": [cert],
        "signer_infos": [{
            "version": "v1",
            "sid": a_cms.SignerIdentifier(name="issuer_and_serial_number", value={
                "issuer": cert.issuer, "serial_number": cert.serial_number}),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": signature,
        }],
    })
    return signed.dump()


def enveloped(content_type, content, recipient_der):
    """An EnvelopedData (RFC 5652 6) of `content` for the holder of
    `recipient_der` (an RSA certificate): one ktri, RSAES-PKCS1-v1_5, the
    recipient by issuer and serial number, the content AES-256-CBC."""
    recipient = a_x509.Certificate.load(recipient_der)
    public = x509.load_der_x509_certificate(recipient_der).public_key()
    cek, iv = os.urandom(32), os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    plain = padder.update(content) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(plain) + encryptor.finalize()
    return a_cms.ContentInfo({
        "content_type": "enveloped_data",
        "content": a_cms.EnvelopedData({
            "version": "v0",
            "recipient_infos": [a_cms.RecipientInfo(name="ktri", value={
                "version": "v0",
                "rid": a_cms.RecipientIdentifier(name="issuer_and_serial_number", value={
                    "issuer": recipient.issuer,
                    "serial_number": recipient.serial_number,
                }),
                "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
                "encrypted_key": public.encrypt(cek, padding.PKCS1v15()),
            })],
            "encrypted_content_info": {
                "content_type": content_type,
                "content_encryption_algorithm": {"algorithm": "aes256_cbc", "parameters": iv},
                "encrypted_content": encrypted,
            },
        }),
    }).dump()


def key_identifier(cert_der):
    """RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits,
    unless the certificate carries a subjectKeyIdentifier."""
    cert = a_x509.Certificate.load(cert_der)
    if cert.key_identifier is not None:
        return cert.key_identifier
    digest = hashes.Hash(hashes.SHA1())
    digest.update(cert.public_key["public_key"].contents[1:])  # past the unused-bits byte
    return digest.finalize()


def base64_lines(der):
    """Base64 in 76-column lines ending in CRLF, as many CAs send it."""
    return base64.encodebytes(der).replace(b"\n", b"\r\n")


# --- the CA -------------------------------------------------------------------

def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Python EST"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def build_cert(subject, public_key, issuer, issuer_key, days, ca=False, alt_names=None,
               serial=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer)
         .public_key(public_key)
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                          False), critical=True)
    if alt_names:
        b = b.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    return b.sign(issuer_key, hashes.SHA384() if isinstance(issuer_key, ec.EllipticCurvePrivateKey)
                  else hashes.SHA256())


class Ca:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        # A P-384 root (the TLS anchor) and an RSA issuing CA under it.
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.root = build_cert(name("Python EST Root"), self.root_key.public_key(),
                               name("Python EST Root"), self.root_key, 30, ca=True)
        self.ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ca = build_cert(name("Python EST Issuing CA"), self.ca_key.public_key(),
                             self.root.subject, self.root_key, 30, ca=True)
        self.tls_key = ec.generate_private_key(ec.SECP256R1())
        self.tls = build_cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
                              self.tls_key.public_key(), self.root.subject, self.root_key, 30,
                              alt_names=[x509.DNSName("localhost"),
                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.pending_left = args.pending
        self.log_path = os.path.join(args.dir, "requests.log")

    def log(self, line):
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def take_pending(self):
        with self.lock:
            if self.pending_left > 0:
                self.pending_left -= 1
                return True
            return False

    def issue(self, csr, public_key=None):
        cert = build_cert(csr.subject, public_key or csr.public_key(), self.ca.subject,
                          self.ca_key, self.args.days)
        return cert.public_bytes(serialization.Encoding.DER)


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


class AnySet(a_core.SetOf):
    _child_spec = a_core.Any


def csr_attribute_values(csr_der, oid):
    """The values (asn1crypto objects) of attribute `oid` in a CSR, or None."""
    info = a_csr.CertificationRequest.load(csr_der)["certification_request_info"]
    for attr in info["attributes"]:
        if attr["type"].dotted == oid:
            values = attr["values"]
            if isinstance(values, a_core.Any):  # a type asn1crypto does not know
                values = AnySet.load(values.dump())
            return list(values)
    return None


def challenge_of(csr_der):
    values = csr_attribute_values(csr_der, OID_CHALLENGE_PASSWORD)
    if not values:
        return None
    return values[0].native if hasattr(values[0], "native") else None


def make_handler(ca):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # requests.log instead
            pass

        def send(self, status, ctype=None, body=b"", headers=()):
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return status

        def send_base64(self, ctype, der_bytes):
            return self.send(200, ctype, base64_lines(der_bytes),
                             [("Content-Transfer-Encoding", "base64")])

        def unauthorized(self):
            return self.send(401, "text/plain", b"authentication required\n",
                             [("WWW-Authenticate", 'Basic realm="python-est"')])

        def operation(self):
            parts = self.path.split("?")[0].split("/")
            # "", ".well-known", "est", [label,] op
            if len(parts) not in (4, 5) or parts[1:3] != [".well-known", "est"]:
                return None, None
            return (parts[3] if len(parts) == 5 else ""), parts[-1]

        def client_cert(self):
            """DER of the verified TLS client certificate, or None."""
            try:
                return self.connection.getpeercert(binary_form=True)
            except (AttributeError, ValueError):
                return None

        def basic_ok(self):
            auth = self.headers.get("Authorization") or ""
            if not auth.startswith("Basic "):
                return False
            try:
                got = base64.b64decode(auth[6:], validate=True).decode("utf-8")
            except ValueError:
                return False
            return got == "%s:%s" % (ca.args.user, ca.args.password)

        def body(self):
            if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self):
            label, op = self.operation()
            status = self.get(op)
            ca.log("GET %s label=%s status=%d" % (op, label or "-", status))

        def get(self, op):
            if op == "cacerts":
                return self.send_base64(PKCS7 + "; smime-type=certs-only",
                                        certs_only([der(ca.root), der(ca.ca)]))
            if op == "csrattrs":
                if not ca.args.csrattrs:
                    return self.send(204)
                return self.send_base64("application/csrattrs", csr_attrs_der())
            return self.send(404, "text/plain", b"unknown EST operation\n")

        def do_POST(self):
            label, op = self.operation()
            body = self.body()
            note = []
            try:
                status = self.post(op, body, note)
            except Exception as e:  # a server bug: HTTP 500 and the reason logged
                note.append("error: %r" % e)
                status = self.send(500, "text/plain", b"internal error\n")
            ca.log("POST %s label=%s status=%d %s" % (op, label or "-", status, " ".join(note)))

        def post(self, op, body, note):
            if op not in ("simpleenroll", "simplereenroll", "serverkeygen"):
                return self.send(404, "text/plain", b"unknown EST operation\n")
            client = self.client_cert()
            if op == "simplereenroll":
                if client is None:
                    note.append("auth=none")
                    return self.unauthorized()
                note.append("auth=cert")
            elif self.basic_ok():
                note.append("auth=basic")
            elif client is not None:
                note.append("auth=cert")
            else:
                note.append("auth=none")
                return self.unauthorized()
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            try:
                csr_der = base64.b64decode(body, validate=False)
                csr = x509.load_der_x509_csr(csr_der)
                good = csr.is_signature_valid
            except ValueError as e:
                note.append("bad request: %s" % e)
                good = False
            if ctype != "application/pkcs10" or not good:
                note.append("content-type=%s" % ctype)
                return self.send(400, "text/plain", b"bad certification request\n")
            if op == "simplereenroll":
                current = x509.load_der_x509_certificate(client)
                if current.subject != csr.subject:
                    note.append("subject differs from the client certificate")
                    return self.send(400, "text/plain", b"subject differs\n")
            if ca.args.csrattrs:
                got = challenge_of(csr_der)
                if got != ca.args.challenge:
                    note.append("challengePassword wrong or missing")
                    return self.send(400, "text/plain", b"challengePassword required\n")
                note.append("challengePassword ok")
            if ca.take_pending():
                note.append("pending")
                return self.send(202, "text/plain", b"", [("Retry-After", ca.args.retry_after)])
            if op != "serverkeygen":
                issued = ca.issue(csr)
                note.append("issued")
                return self.send_base64(PKCS7 + "; smime-type=certs-only", certs_only([issued]))
            return self.server_keygen(csr, csr_der, client, note)

        def server_keygen(self, csr, csr_der, client, note):
            key = ec.generate_private_key(ec.SECP256R1())
            pkcs8 = key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
            issued = ca.issue(csr, key.public_key())
            asked = csr_attribute_values(csr_der, OID_ASYMMETRIC_DECRYPT_KEY_ID)
            if asked is not None and not ca.args.plain_key:
                # The key named must be the TLS client certificate's: that
                # is the key the server encrypts to.
                if client is None or not asked or a_core.OctetString.load(asked[0].dump()).native != key_identifier(client):
                    note.append("AsymmetricDecryptKeyIdentifier names no key we have")
                    return self.send(400, "text/plain", b"unknown decryption key\n")
                signed = signed_key_package(pkcs8, ca.ca, ca.ca_key)
                key_part = ("application/pkcs7-mime; smime-type=server-generated-key",
                            enveloped("signed_data", signed, client))
                note.append("key=enveloped")
            else:
                key_part = ("application/pkcs8", pkcs8)
                note.append("key=pkcs8")
            note.append("issued")
            parts = [key_part, (PKCS7 + "; smime-type=certs-only", certs_only([issued]))]
            out = b""
            for ctype, content in parts:
                out += (b"--" + BOUNDARY.encode() + b"\r\nContent-Type: " + ctype.encode() +
                        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64_lines(content))
            out += b"--" + BOUNDARY.encode() + b"--\r\n"
            return self.send(200, 'multipart/mixed; boundary="%s"' % BOUNDARY, out)

    return Handler


class TlsServer(ThreadingHTTPServer):
    """Each connection's TLS handshake runs in its own thread."""
    daemon_threads = True

    def __init__(self, address, handler, context):
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request, client_address):
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate, or went away
        super().finish_request(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--user", default="estuser")
    p.add_argument("--password", default="estpass")
    p.add_argument("--pending", type=int, default=0)
    p.add_argument("--retry-after", default="1")
    p.add_argument("--csrattrs", action="store_true")
    p.add_argument("--challenge", default="")
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--plain-key", action="store_true")
    args = p.parse_args()
    ca = Ca(args)
    for file_name, cert in (("root.crt", ca.root), ("ca.crt", ca.ca)):
        with open(os.path.join(args.dir, file_name), "wb") as f:
            f.write(pem(cert))
    # The TLS key and certificate go through files: the ssl module loads no
    # other way. They stay in the test's directory.
    tls_file = os.path.join(args.dir, "tls.pem")
    with open(os.open(tls_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(ca.tls_key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()) + pem(ca.tls))
    client_cas = os.path.join(args.dir, "client-cas.pem")
    with open(client_cas, "wb") as f:
        f.write(pem(ca.ca) + pem(ca.root))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_file)
    context.load_verify_locations(client_cas)
    context.verify_mode = ssl.CERT_OPTIONAL  # Basic works without one
    server = TlsServer(("127.0.0.1", 0), make_handler(ca), context)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    return publish_port_and_serve(server, args.dir)


if __name__ == "__main__":
    sys.exit(main())
