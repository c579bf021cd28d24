#!/usr/bin/python3
"""A second, independent SCEP responder for the interop tests: messages are
read with python3-asn1crypto and written by scep_asn1.py (no code shared
with core/ or with tests/responder/). It behaves like the CAs documented in
docs/interop.md, one quirk per option:

  --dir DIR           writes ca.crt (issuing CA), root.crt, port and the
                      request log (requests.log) there
  --pending N         PKCSReq answers PENDING; the first N CertPolls too,
                      then SUCCESS
  --fail N            refuse with FAILURE failInfo N (after the PENDINGs)
  --fail-text TEXT    failInfoText of the FAILURE
  --econtent FORM     eContent of PENDING/FAILURE: absent (default),
                      octets (zero-length), constructed-empty
  --ber               BER indefinite lengths in every reply
  --ra                NDES-like: GetCACert is RA signature + RA encryption
                      + issuing CA + root; replies signed by the RA
  --one-time-challenge html|failure
                      NDES: a challenge password works once; its reuse
                      gets an HTML page (status 200) or FAILURE badRequest
  --refuse-with-http-500
                      a refusal is answered HTTP 500 with a text body
  --max-url N         IIS: a GET whose request target exceeds N bytes gets
                      HTTP 404 (IIS 404.15, query string too long)
  --caps TEXT         GetCACaps body (\\n and \\r escapes understood)

CertPoll is strict: the issuer name in IssuerAndSubject must be the issuing
CA's (RFC 8894 section 3.3.3), else FAILURE badCertId.
"""

import argparse
import base64
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509

import scep_asn1 as s
from serve_loopback import publish_port_and_serve

FAIL_BAD_REQUEST, FAIL_BAD_CERT_ID = 2, 4


class Ca:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()  # refuse() logs while operate() holds it
        self.root_key = s.new_key()
        self.root = s.make_cert("Interop Root CA", self.root_key, ca=True,
                                key_usage=dict(key_cert_sign=True, crl_sign=True))
        self.ca_key = s.new_key()
        self.ca = s.make_cert("Interop Issuing CA", self.ca_key, self.root, self.root_key,
                              ca=True, key_usage=dict(key_cert_sign=True, crl_sign=True,
                                                      digital_signature=True))
        if args.ra:
            self.ra_sign_key = s.new_key()
            self.ra_sign = s.make_cert("Interop RA (signature)", self.ra_sign_key, self.ca,
                                       self.ca_key, key_usage=dict(digital_signature=True))
            self.ra_enc_key = s.new_key()
            self.ra_enc = s.make_cert("Interop RA (encryption)", self.ra_enc_key, self.ca,
                                      self.ca_key, key_usage=dict(key_encipherment=True))
        self.transactions = {}  # transactionID -> dict(csr, polls)
        self.used_challenges = set()
        self.log_path = os.path.join(args.dir, "requests.log")

    def log(self, line):
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def ca_answer(self):
        if self.args.ra:
            return "application/x-x509-ca-ra-cert", s.certs_only(
                [self.ra_sign, self.ra_enc, self.ca, self.root],
                s.Enc("ber") if self.args.ber else s.DER)
        return "application/x-x509-ca-cert", s.der_of(self.ca)

    def reply(self, req, status, fail_info=None, fail_text=None, issued=None):
        attrs = s.cert_rep_attrs(req["transaction_id"], req["sender_nonce"], status, fail_info,
                                 fail_text)
        enc = s.Enc("ber") if self.args.ber else s.DER
        signer = (self.ra_sign, self.ra_sign_key) if self.args.ra else (self.ca, self.ca_key)
        if status == 0:
            inner = s.certs_only([issued, self.ca])
            env = s.envelope(inner, req["signer_cert"], req["cipher"], enc,
                             64 if self.args.ber else None)
            return s.signed_data(attrs, signer[0], signer[1], env,
                                 "chunks" if self.args.ber else "octets", enc=enc)
        return s.signed_data(attrs, signer[0], signer[1], b"", self.args.econtent, enc=enc)

    def operate(self, der):
        """Returns (http status, content type, body)."""
        key = self.ra_enc_key if self.args.ra else self.ca_key
        req = s.parse_request(der, key)
        tid, mtype = req["transaction_id"], req["message_type"]
        self.log("PKIOperation messageType=%d tid=%s" % (mtype, tid))
        with self.lock:
            if mtype in (19, 17):  # PKCSReq, RenewalReq
                csr = x509.load_der_x509_csr(req["payload"])
                t = self.transactions.get(tid)
                if t is None:
                    challenge = s.challenge_of(csr)
                    if self.args.one_time_challenge and challenge is not None:
                        if challenge in self.used_challenges:
                            return self.refuse(req, FAIL_BAD_REQUEST,
                                               "the challenge password was used before",
                                               html=self.args.one_time_challenge == "html")
                        self.used_challenges.add(challenge)
                    t = self.transactions[tid] = dict(csr=csr, polls=0)
                    if self.args.pending is not None:
                        return self.ok(self.reply(req, 3))
                return self.decide(req, t, count_poll=self.args.pending is not None)
            if mtype == 20:  # CertPoll
                names = s.IssuerAndSubject.load(req["payload"])
                t = self.transactions.get(tid)
                if t is None:
                    return self.refuse(req, FAIL_BAD_CERT_ID, "unknown transaction")
                if names["issuer"].dump() != self.ca.subject.public_bytes():
                    self.log("CertPoll issuer is not the issuing CA")
                    return self.refuse(req, FAIL_BAD_CERT_ID,
                                       "CertPoll issuer is not the issuing CA")
                if names["subject"].dump() != t["csr"].subject.public_bytes():
                    return self.refuse(req, FAIL_BAD_CERT_ID, "CertPoll subject differs")
                return self.decide(req, t, count_poll=True)
            return self.refuse(req, FAIL_BAD_REQUEST, "operation not supported")

    def decide(self, req, t, count_poll):
        if count_poll:
            t["polls"] += 1
            if self.args.pending is not None and t["polls"] <= self.args.pending:
                return self.ok(self.reply(req, 3))
        if self.args.fail is not None:
            return self.refuse(req, self.args.fail, self.args.fail_text)
        if "issued" not in t:
            t["issued"] = s.issue(t["csr"], self.ca, self.ca_key)
        return self.ok(self.reply(req, 0, issued=t["issued"]))

    def ok(self, body):
        return 200, "application/x-pki-message", body

    def refuse(self, req, fail_info, text, html=False):
        self.log("refused failInfo=%d" % fail_info)
        if html:
            return 200, "text/html", (b"<html><head><title>Network Device Enrollment Service"
                                      b"</title></head><body>The password in the certificate "
                                      b"request cannot be verified. It may have been used "
                                      b"already.</body></html>")
        if self.args.refuse_with_http_500:
            return 500, "text/plain", b"Request refused by policy"
        return self.ok(self.reply(req, 2, fail_info, text))


def make_handler(ca):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):  # quiet
            pass

        def send(self, status, ctype, body):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_scep(self, body):
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            op = (q.get("operation") or [""])[0]
            ca.log("%s %s target=%d" % (self.command, op, len(self.path)))
            if ca.args.max_url and self.command == "GET" and len(self.path) > ca.args.max_url:
                return self.send(404, "text/html", b"<html><body>HTTP Error 404.15 - Not Found"
                                 b" The request filtering module is configured to deny a "
                                 b"request where the query string is too long.</body></html>")
            if op == "GetCACaps":
                caps = ca.args.caps.replace("\\n", "\n").replace("\\r", "\r").encode()
                return self.send(200, "text/plain", caps)
            if op == "GetCACert":
                return self.send(200, *ca.ca_answer())
            if op == "PKIOperation":
                if self.command == "GET":
                    body = base64.b64decode((q.get("message") or [""])[0])
                try:
                    return self.send(*ca.operate(body))
                except Exception as e:  # a broken request: HTTP 400, never a crash
                    ca.log("bad request: %r" % e)
                    with open(os.path.join(ca.args.dir, "bad-request.der"), "wb") as f:
                        f.write(body)
                    return self.send(400, "text/plain", b"bad request")
            return self.send(404, "text/plain", b"unknown operation")

        def do_GET(self):
            self.handle_scep(b"")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.handle_scep(self.rfile.read(n))

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--pending", type=int)
    p.add_argument("--fail", type=int)
    p.add_argument("--fail-text")
    p.add_argument("--econtent", default="absent",
                   choices=["absent", "octets", "constructed-empty"])
    p.add_argument("--ber", action="store_true")
    p.add_argument("--ra", action="store_true")
    p.add_argument("--one-time-challenge", choices=["html", "failure"])
    p.add_argument("--refuse-with-http-500", action="store_true")
    p.add_argument("--max-url", type=int, default=0)
    p.add_argument("--caps", default="POSTPKIOperation\\nSHA-256\\nAES\\nRenewal")
    args = p.parse_args()
    ca = Ca(args)
    for name, cert in (("ca.crt", ca.ca), ("root.crt", ca.root)):
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(s.pem_of(cert))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(ca))
    return publish_port_and_serve(server, args.dir)


if __name__ == "__main__":
    sys.exit(main())
