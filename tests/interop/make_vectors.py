#!/usr/bin/python3
"""Writes the interop vectors: CA answers as other SCEP implementations
encode them, built by scep_asn1.py (no code shared with core/).

    make_vectors.py OUT_DIR [--pki KEY CERT]

OUT_DIR receives one file per vector, vectors.tsv (the manifest the C++
harness tests/interop/interop_vectors_test.cc reads) and the PKI the
vectors use: ca.crt (issuing CA), root.crt, ra-sign.crt, ra-enc.crt,
client.crt + client.key (the enrolling router; SUCCESS envelopes are
encrypted to it). With --pki every CertRep is signed by and encrypted to
that one key and certificate instead (the fuzz seeds, fuzz/pki/).

Manifest columns (tab separated): name, kind (certrep | getcacert |
getcacaps), file, content type, expect (accept | refuse), check, source.
check for an accepted certrep: space-separated key=value (status, failinfo,
text (hex), tid, nonce (hex recipientNonce), issued); for getcacert: ca,
signer, encryption (indexes in the order sent), count; for getcacaps: caps
(canonical keywords joined by commas). For a refused vector check is the
text the error message must contain.
"""

import itertools
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import scep_asn1 as s

TID = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
NONCE = bytes(range(16))


class Pki:
    def __init__(self, fixed=None):
        if fixed:
            key, cert = fixed
            self.root_key = self.ca_key = self.ra_sign_key = self.ra_enc_key = key
            self.client_key = self.other_key = key
            self.root = self.ca = self.ra_sign = self.ra_enc = self.client = cert
            self.other = cert
            self.other_key = s.new_key()
            self.other = s.make_cert("unrelated signer", self.other_key)
            self.unrelated = self.other
            return
        self.root_key = s.new_key()
        self.root = s.make_cert("Interop Root CA", self.root_key, ca=True,
                                key_usage=dict(key_cert_sign=True, crl_sign=True))
        self.ca_key = s.new_key()
        self.ca = s.make_cert("Interop Issuing CA", self.ca_key, self.root, self.root_key, ca=True,
                              key_usage=dict(key_cert_sign=True, crl_sign=True,
                                             digital_signature=True))
        # NDES-style registration authority: one certificate to sign, one to
        # be encrypted to, both issued by the issuing CA.
        self.ra_sign_key = s.new_key()
        self.ra_sign = s.make_cert("Interop RA (signature)", self.ra_sign_key, self.ca, self.ca_key,
                                   key_usage=dict(digital_signature=True))
        self.ra_enc_key = s.new_key()
        self.ra_enc = s.make_cert("Interop RA (encryption)", self.ra_enc_key, self.ca, self.ca_key,
                                  key_usage=dict(key_encipherment=True))
        self.ra_both = s.make_cert("Interop RA (both)", s.new_key(), self.ca, self.ca_key,
                                   key_usage=dict(digital_signature=True, key_encipherment=True))
        self.client_key = s.new_key()
        self.client = s.make_cert("router-1", self.client_key)  # self-signed, as for PKCSReq
        self.other_key = s.new_key()
        self.other = s.make_cert("Interop Issuing CA", self.other_key)  # same name, other key
        self.unrelated = s.make_cert("unrelated", s.new_key())


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    fixed = None
    if len(argv) == 5 and argv[2] == "--pki":
        key = serialization.load_pem_private_key(open(argv[3], "rb").read(), None)
        cert = x509.load_pem_x509_certificate(open(argv[4], "rb").read())
        fixed = (key, cert)
    os.makedirs(out, exist_ok=True)
    p = Pki(fixed)
    rows = []

    def emit(name, kind, data, content_type, expect, check, source):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        rows.append("\t".join([name, kind, name, content_type or "-", expect, check, source]))

    issued = s.issue(x509.load_der_x509_csr(
        x509.CertificateSigningRequestBuilder().subject_name(p.client.subject)
        .sign(p.client_key, s.hashes.SHA256()).public_bytes(serialization.Encoding.DER)),
        p.ca, p.ca_key)

    def certrep(name, status, expect="accept", check=None, source="", fail_info=None,
                fail_text=None, signer="ca", string_tag=s.T_PRINTABLE, tid_tag=None,
                sender_nonce=None, content_certs=None, cipher="aes-256-cbc", env_enc="der",
                env_chunk=None, econtent_form=None, no_envelope=False,
                no_certs_field=False, **kw):
        attrs = s.cert_rep_attrs(TID, NONCE, status, fail_info, fail_text, sender_nonce,
                                 string_tag, tid_tag)
        econtent = b""
        if status == 0 and not no_envelope:
            inner = s.certs_only(None if no_certs_field else
                                 content_certs if content_certs is not None else [issued])
            econtent = s.envelope(inner, p.client, cipher, s.Enc(env_enc), env_chunk)
        cert, key = {"ca": (p.ca, p.ca_key), "ra": (p.ra_sign, p.ra_sign_key),
                     "other": (p.other, p.other_key)}[signer]
        if econtent_form is None:
            econtent_form = "octets"
        der = s.signed_data(attrs, cert, key, econtent, econtent_form, **kw)
        if check is None:
            parts = ["status=" + {0: "SUCCESS", 2: "FAILURE", 3: "PENDING"}[status],
                     "tid=" + TID, "nonce=" + NONCE.hex().upper()]
            if status == 2:
                parts.append("failinfo=" + (str(fail_info) if fail_info is not None else "none"))
                if fail_text is not None:
                    parts.append("text=" + fail_text.encode("utf-8").hex().upper())
            if status == 0:
                parts.append("issued=1")
            check = " ".join(parts)
        emit("certrep-" + name, "certrep", der, "application/x-pki-message", expect, check, source)

    # eContent absent / zero-length / constructed-empty, PENDING and FAILURE.
    for form, label in (("absent", "econtent-absent"), ("octets", "econtent-zero-length"),
                        ("constructed-empty", "econtent-constructed-empty")):
        certrep("pending-" + label, 3, econtent_form=form,
                source="RFC 5652 5.2 detached content; independent responders")
        certrep("failure-" + label, 2, econtent_form=form, fail_info=2,
                source="RFC 5652 5.2 detached content; independent responders")
    certrep("pending-econtent-empty-explicit", 3, econtent_form="empty-explicit",
            expect="refuse", check="not a DER CMS", source="malformed: [0] without its OCTET STRING")
    # Attribute types and lengths.
    certrep("failure-no-failinfo", 2, source="RFC 8894 3.3.2: failInfo omitted by some CAs")
    certrep("failure-failinfotext-utf8", 2, fail_info=2,
            fail_text="Anfrage abgelehnt: Prüfung fehlgeschlagen – 拒否", source="RFC 8894 3.2.1.4.5")
    certrep("pending-attrs-utf8string", 3, string_tag=s.T_UTF8,
            source="CAs encoding SCEP strings as UTF8String")
    certrep("failure-attrs-utf8string", 2, fail_info=4, string_tag=s.T_UTF8,
            source="CAs encoding SCEP strings as UTF8String")
    certrep("pending-tid-utf8string", 3, tid_tag=s.T_UTF8, source="transactionID as UTF8String")
    certrep("pending-tid-ia5string", 3, tid_tag=s.T_IA5, source="transactionID as IA5String")
    for n in (0, 8, 20, 32):
        certrep("pending-sender-nonce-%d" % n, 3, sender_nonce=os.urandom(n),
                source="senderNonce of other lengths than 16")
    # SUCCESS shapes.
    certrep("success-der", 0, source="baseline")
    certrep("success-ber-indefinite", 0, enc=s.Enc("ber"), econtent_form="chunks", env_enc="ber",
            env_chunk=64, source="Windows CAs (NDES): BER indefinite lengths, content in pieces")
    certrep("success-envelope-ber-only", 0, env_enc="ber", env_chunk=1000,
            source="BER envelope inside a DER SignedData")
    certrep("success-long-lengths", 0, enc=s.Enc("long"), env_enc="long",
            source="BER non-minimal length octets")
    certrep("pending-long-lengths", 3, enc=s.Enc("long"), econtent_form="absent",
            source="BER non-minimal length octets")
    certrep("success-ski-signer", 0, sid="ski", source="CMS v3 SignerInfo (subjectKeyIdentifier)")
    certrep("pending-ski-signer", 3, sid="ski", econtent_form="absent",
            source="CMS v3 SignerInfo (subjectKeyIdentifier)")
    certrep("success-ra-signed", 0, signer="ra", certs=[p.ra_sign, p.ra_enc, p.ca],
            source="NDES: CertRep signed by the RA signature certificate")
    certrep("success-extra-unrelated-certs", 0, content_certs=[p.unrelated, issued, p.root],
            source="certificate set with unrelated certificates")
    certrep("success-issued-not-first", 0, content_certs=[p.root, p.ca, issued],
            source="issued certificate after its chain")
    certrep("success-with-ca-chain", 0, content_certs=[issued, p.ca, p.root],
            source="EJBCA: issued certificate followed by the CA chain")
    certrep("success-signeddata-without-certificates", 0, certs=[],
            source="SignedData without a certificates field (signer known from GetCACert)")
    certrep("success-content-without-issued", 0, content_certs=[p.ca],
            check="status=SUCCESS issued=0",
            source="certs-only without our certificate (the client then refuses it)")
    certrep("success-content-no-certificates", 0, content_certs=None, no_certs_field=True,
            check="status=SUCCESS issued=0",
            source="certs-only without a certificates field at all (the client then refuses it)")
    certrep("pending-ber-indefinite", 3, enc=s.Enc("ber"), econtent_form="absent",
            source="Windows CAs (NDES): BER indefinite lengths, detached PENDING")
    certrep("failure-ber-indefinite", 2, fail_info=4, enc=s.Enc("ber"), econtent_form="absent",
            source="Windows CAs (NDES): BER indefinite lengths, detached FAILURE")
    certrep("success-without-envelope", 0, no_envelope=True, econtent_form="absent",
            expect="refuse", check="pkcsPKIEnvelope: empty",
            source="Dogtag 10.12 (sscep issue 159): SUCCESS with an empty envelope while the "
                   "request awaits approval")
    for cipher in ("des-ede3-cbc", "aes-128-cbc", "aes-256-cbc"):
        certrep("success-" + cipher, 0, cipher=cipher, source="envelope cipher " + cipher)
    for digest in ("sha1", "sha256", "sha512"):
        for sig in ("rsa", "sha-with-rsa"):
            label = "rsaEncryption" if sig == "rsa" else digest + "WithRSAEncryption"
            certrep("success-%s-%s" % (digest, label), 0, digest=digest, sig_alg=sig,
                    source="signature %s with %s" % (digest, label))
            certrep("pending-absent-%s-%s" % (digest, label), 3, digest=digest, sig_alg=sig,
                    econtent_form="absent", source="detached, %s with %s" % (digest, label))
    # Refused, each for a reason the message names.
    certrep("pending-tampered-signature", 3, tamper=True, expect="refuse",
            check="signature does not verify", source="corrupted signature")
    certrep("pending-absent-wrong-digest", 3, econtent_form="absent", digest_of=b"x",
            expect="refuse", check="signature does not verify",
            source="detached, messageDigest not that of the empty string")
    certrep("pending-foreign-signer", 3, signer="other", certs=[p.other], expect="refuse",
            check="signed by a certificate we do not trust",
            source="self-signed under the CA's name, another key and serial")
    certrep("failure-unknown-failinfo", 2, fail_info=99, expect="refuse",
            check="unknown failInfo 99", source="failInfo outside RFC 8894's list")

    # GetCACert.
    ca_ra = "application/x-x509-ca-ra-cert"
    roles = {"ca": p.ca, "rasign": p.ra_sign, "raenc": p.ra_enc}
    if not fixed:
        for order in itertools.permutations(["ca", "rasign", "raenc"]):
            certs = [roles[r] for r in order]
            check = "ca=%d signer=%d encryption=%d count=3" % (
                order.index("ca"), order.index("rasign"), order.index("raenc"))
            emit("getcacert-ndes-" + "-".join(order), "getcacert", s.certs_only(certs), ca_ra,
                 "accept", check, "NDES: CA + RA signature + RA encryption, any order")
        chain = [p.ra_sign, p.ra_enc, p.ca, p.root]
        emit("getcacert-ra-chain-root", "getcacert", s.certs_only(chain), ca_ra, "accept",
             "ca=2 signer=0 encryption=1 count=4", "RA + issuing CA + root")
        emit("getcacert-content-type-params", "getcacert",
             s.certs_only([p.ra_sign, p.ra_enc, p.ca]), ca_ra + "; charset=binary", "accept",
             "ca=2 signer=0 encryption=1 count=3", "content type with parameters")
        emit("getcacert-content-type-case", "getcacert",
             s.certs_only([p.ca, p.ra_enc, p.ra_sign]), "Application/X-X509-CA-RA-Cert",
             "accept", "ca=0 signer=2 encryption=1 count=3", "content type in other case")
        emit("getcacert-ber-indefinite", "getcacert",
             s.certs_only([p.ra_sign, p.ra_enc, p.ca], s.Enc("ber")), ca_ra, "accept",
             "ca=2 signer=0 encryption=1 count=3", "Windows: BER indefinite degenerate PKCS#7")
        emit("getcacert-openxpki-ra-both-usages", "getcacert",
             s.certs_only([p.ra_both, p.ca, p.root]), ca_ra, "accept",
             "ca=1 signer=0 encryption=0 count=3",
             "OpenXPKI, Cisco IOS RA mode: one RA certificate for both roles, chain after it")
        emit("getcacert-step-ca-decrypter", "getcacert",
             s.certs_only([p.ca, p.ra_enc, p.root]), ca_ra, "accept",
             "ca=0 encryption=1 count=3",
             "step-ca: the intermediate signs, a separate RSA decrypter certificate encrypts")
        emit("getcacert-ra-only", "getcacert", s.certs_only([p.ra_sign, p.ra_enc]), ca_ra,
             "refuse", "none of the 2 certificates is a CA", "RA certificates without their CA")
    emit("getcacert-der-single", "getcacert", s.der_of(p.ca), "application/x-x509-ca-cert",
         "accept", "ca=0 signer=0 encryption=0 count=1", "one DER certificate")
    emit("getcacert-pem-single", "getcacert", s.pem_of(p.ca), "application/x-x509-ca-cert",
         "accept", "ca=0 signer=0 encryption=0 count=1", "one PEM certificate")
    emit("getcacert-pem-crlf", "getcacert", s.pem_of(p.ca).replace(b"\n", b"\r\n"),
         "application/x-x509-ca-cert", "accept", "ca=0 signer=0 encryption=0 count=1",
         "PEM with CRLF line ends")
    emit("getcacert-der-labelled-ca-ra", "getcacert", s.der_of(p.ca), ca_ra, "accept",
         "ca=0 signer=0 encryption=0 count=1", "one DER certificate under the CA/RA type")
    emit("getcacert-pkcs7-labelled-ca-cert", "getcacert", s.certs_only([p.ca]),
         "application/x-x509-ca-cert", "accept", "ca=0 signer=0 encryption=0 count=1",
         "PKCS#7 under the single-certificate type")
    emit("getcacert-pkcs7-no-certificates", "getcacert", s.certs_only(None), ca_ra, "refuse",
         "holds no certificate", "degenerate PKCS#7 without a certificates field")
    emit("getcacert-empty", "getcacert", b"", "application/x-x509-ca-cert", "refuse",
         "body is empty", "empty answer")
    emit("getcacert-html", "getcacert", b"<html><body>403 - Forbidden</body></html>",
         "text/html", "refuse", "neither a DER certificate nor", "IIS error page")

    # GetCACaps.
    caps = [
        ("crlf", b"POSTPKIOperation\r\nSHA-256\r\nAES\r\n", "AES,POSTPKIOperation,SHA-256"),
        ("trailing-spaces", b"POSTPKIOperation  \nSHA-256 \t\nDES3 \n",
         "DES3,POSTPKIOperation,SHA-256"),
        ("blank-lines", b"\n\nRenewal\n\n\nSHA-1\n\n", "Renewal,SHA-1"),
        ("unknown-words", b"GetNextCACert\nFooBar\nSHA-384X\nSCEPStandard\nX-Vendor-Thing\n",
         "AES,GetNextCACert,POSTPKIOperation,SHA-256,SCEPStandard"),
        ("empty", b"", ""),
        ("whitespace-only", b" \r\n\r\n", ""),
        ("lower-case", b"aes\nsha-512\npostpkioperation\n", "AES,POSTPKIOperation,SHA-512"),
        ("get-only-crlf", b"Renewal\r\nSHA-512\r\nSHA-256\r\nSHA-1\r\nDES3\r\n",
         "DES3,Renewal,SHA-1,SHA-256,SHA-512"),
        ("ejbca-documented", b"POSTPKIOperation\nGetNextCACert\nRenewal\nSHA-512\nSHA-256\nSHA-1\nDES3\nAES\n"
         b"SCEPStandard\n",
         "AES,DES3,GetNextCACert,POSTPKIOperation,Renewal,SHA-1,SHA-256,SHA-512,SCEPStandard"),
    ]
    for name, body, expected in caps:
        emit("getcacaps-" + name, "getcacaps", body, "text/plain", "accept", "caps=" + expected,
             "GetCACaps " + name)

    for name, cert in (("ca.crt", p.ca), ("root.crt", p.root), ("ra-sign.crt", p.ra_sign),
                       ("ra-enc.crt", p.ra_enc), ("client.crt", p.client)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(s.pem_of(cert))
    fd = os.open(os.path.join(out, "client.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(s.key_pem(p.client_key))
    with open(os.path.join(out, "vectors.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    print("%d vectors written to %s" % (len(rows), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
