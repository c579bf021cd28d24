"""SCEP messages (RFC 8894) encoded by hand, sharing nothing with core/.

The interop suite needs CA answers that scepd's own message code did not
produce. Everything here is written from the RFCs (RFC 8894, RFC 5652,
X.690): a small TLV encoder that can emit DER, BER indefinite lengths and
non-minimal lengths, and builders for the SCEP structures on top of it.
Keys, certificates, RSA and the ciphers come from python3-cryptography;
requests are read back with python3-asn1crypto. Nothing here touches the
network or writes files; callers decide.
"""

import hashlib
import os

from asn1crypto import cms as a_cms
from asn1crypto import core as a_core
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID
import datetime

# Object identifiers (dotted) used below.
OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_RSA = "1.2.840.113549.1.1.1"
OID_SCEP_MESSAGE_TYPE = "2.16.840.1.113733.1.9.2"
OID_SCEP_PKI_STATUS = "2.16.840.1.113733.1.9.3"
OID_SCEP_FAIL_INFO = "2.16.840.1.113733.1.9.4"
OID_SCEP_SENDER_NONCE = "2.16.840.1.113733.1.9.5"
OID_SCEP_RECIPIENT_NONCE = "2.16.840.1.113733.1.9.6"
OID_SCEP_TRANSACTION_ID = "2.16.840.1.113733.1.9.7"
OID_FAIL_INFO_TEXT = "1.3.6.1.5.5.7.24.1"

DIGESTS = {  # name: (digest OID, sha*WithRSAEncryption OID, cryptography hash)
    "sha1": ("1.3.14.3.2.26", "1.2.840.113549.1.1.5", hashes.SHA1),
    "sha256": ("2.16.840.1.101.3.4.2.1", "1.2.840.113549.1.1.11", hashes.SHA256),
    "sha512": ("2.16.840.1.101.3.4.2.3", "1.2.840.113549.1.1.13", hashes.SHA512),
}
CIPHERS = {  # name: (OID, key bytes, block bytes, cryptography algorithm)
    "des-ede3-cbc": ("1.2.840.113549.3.7", 24, 8, algorithms.TripleDES),
    "aes-128-cbc": ("2.16.840.1.101.3.4.1.2", 16, 16, algorithms.AES),
    "aes-256-cbc": ("2.16.840.1.101.3.4.1.42", 32, 16, algorithms.AES),
}

# ASN.1 universal tags.
T_INTEGER, T_OCTET, T_NULL, T_OID = 0x02, 0x04, 0x05, 0x06
T_UTF8, T_PRINTABLE, T_IA5 = 0x0C, 0x13, 0x16
T_SEQ, T_SET = 0x30, 0x31


class Enc:
    """How lengths are written: 'der', 'ber' (indefinite for constructed
    types) or 'long' (every length in a needlessly long form)."""

    def __init__(self, mode="der"):
        assert mode in ("der", "ber", "long")
        self.mode = mode

    def length(self, n):
        if self.mode == "long":
            return bytes([0x82]) + n.to_bytes(2, "big")  # e.g. 5 as 82 00 05
        if n < 0x80:
            return bytes([n])
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(raw)]) + raw

    def tlv(self, tag, content):
        constructed = bool(tag & 0x20)
        if self.mode == "ber" and constructed:
            return bytes([tag, 0x80]) + content + b"\x00\x00"
        return bytes([tag]) + self.length(len(content)) + content


DER = Enc("der")


def oid(dotted, enc=DER):
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray()
    for i, v in enumerate([parts[0] * 40 + parts[1]] + parts[2:]):
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.insert(0, 0x80 | (v & 0x7F))
            v >>= 7
        body += bytes(chunk)
    return enc.tlv(T_OID, bytes(body))


def integer(v, enc=DER):
    raw = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True)
    return enc.tlv(T_INTEGER, raw)


def seq(*items, enc=DER):
    return enc.tlv(T_SEQ, b"".join(items))


def set_of(*items, enc=DER, sort=True):
    items = sorted(items) if sort else list(items)
    return enc.tlv(T_SET, b"".join(items))


def octets(b, enc=DER):
    return enc.tlv(T_OCTET, b)


def ctx(n, content, enc=DER, constructed=True):
    return enc.tlv((0xA0 if constructed else 0x80) | n, content)


def alg(dotted, params=b"\x05\x00", enc=DER):
    return seq(oid(dotted, enc), params, enc=enc) if params is not None else seq(oid(dotted, enc), enc=enc)


# ----------------------------------------------------------------------------
# Keys and certificates (python3-cryptography).

def new_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(cn, org="scepd interop"):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject_cn, key, issuer_cert=None, issuer_key=None, ca=False, key_usage=None,
              serial=None, days=3650, subject_name=None):
    """A v3 certificate; self-signed when issuer_cert is None. key_usage is a
    dict of cryptography KeyUsage flags set to True (the rest False)."""
    subject = subject_name if subject_name is not None else _name(subject_cn)
    now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_cert.subject if issuer_cert else subject)
         .public_key(key.public_key())
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(now)
         .not_valid_after(now + datetime.timedelta(days=days))
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    if key_usage is not None:
        flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                     crl_sign=False, encipher_only=False, decipher_only=False)
        flags.update(key_usage)
        b = b.add_extension(x509.KeyUsage(**flags), True)
    if issuer_cert is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_cert.public_key()), False)
    return b.sign(issuer_key or key, hashes.SHA256())


def der_of(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def pem_of(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ski_of(cert):
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def issuer_and_serial(cert, enc=DER):
    return seq(cert.issuer.public_bytes(), integer(cert.serial_number, enc), enc=enc)


# ----------------------------------------------------------------------------
# CMS structures.

def certs_only(certs, enc=DER):
    """A degenerate SignedData (RFC 8894 section 3.4): certificates only.
    certs=None leaves the (optional) certificates field out."""
    cert_field = b"" if certs is None else ctx(0, b"".join(der_of(c) for c in certs), enc)
    body = seq(integer(1, enc), set_of(enc=enc), seq(oid(OID_DATA, enc), enc=enc),
               cert_field, set_of(enc=enc), enc=enc)
    return seq(oid(OID_SIGNED_DATA, enc), ctx(0, body, enc), enc=enc)


def envelope(plain, recipient_cert, cipher="aes-256-cbc", enc=DER, chunk=None):
    """EnvelopedData with one KeyTransRecipientInfo (RSA PKCS#1 v1.5).
    chunk: split the encrypted content into a constructed [0] of OCTET STRING
    pieces of that size (what BER encoders such as Windows' do)."""
    cipher_oid, key_len, block, algo = CIPHERS[cipher]
    cek, iv = os.urandom(key_len), os.urandom(block)
    padder = sym_padding.PKCS7(block * 8).padder()
    padded = padder.update(plain) + padder.finalize()
    e = Cipher(algo(cek), modes.CBC(iv)).encryptor()
    encrypted = e.update(padded) + e.finalize()
    wrapped = recipient_cert.public_key().encrypt(cek, padding.PKCS1v15())
    ktri = seq(integer(0, enc), issuer_and_serial(recipient_cert, enc), alg(OID_RSA, enc=enc),
               octets(wrapped, enc), enc=enc)
    if chunk:
        pieces = b"".join(octets(encrypted[i:i + chunk], enc) for i in range(0, len(encrypted), chunk))
        content = ctx(0, pieces, enc)  # [0] IMPLICIT OCTET STRING, constructed
    else:
        content = ctx(0, encrypted, enc, constructed=False)
    eci = seq(oid(OID_DATA, enc), seq(oid(cipher_oid, enc), octets(iv, enc), enc=enc), content, enc=enc)
    body = seq(integer(0, enc), set_of(ktri, enc=enc), eci, enc=enc)
    return seq(oid(OID_ENVELOPED_DATA, enc), ctx(0, body, enc), enc=enc)


def string_attr(type_oid, text, tag=T_PRINTABLE):
    return seq(oid(type_oid), set_of(DER.tlv(tag, text.encode("utf-8"))))


def octet_attr(type_oid, value):
    return seq(oid(type_oid), set_of(octets(value)))


def signed_data(attrs, signer_cert, signer_key, econtent=b"", econtent_form="octets",
                digest="sha256", sig_alg="rsa", sid="issuer_serial", certs=None, enc=DER,
                tamper=False, digest_of=None, attr_order=None):
    """A SignedData ContentInfo with one SignerInfo.

    attrs: encoded SCEP Attribute SEQUENCEs (contentType and messageDigest
    are added here). econtent_form: 'octets' (eContent present, the bytes in
    one OCTET STRING), 'absent' (no eContent), 'constructed-empty' (a
    constructed OCTET STRING with no pieces), 'chunks' (a constructed OCTET
    STRING in 100-byte pieces), 'empty-explicit' ([0] with nothing inside:
    malformed). sig_alg: 'rsa' (rsaEncryption, as RFC 5652 allows) or
    'sha-with-rsa'. sid: 'issuer_serial' (SignerInfo v1) or 'ski' (v3).
    certs: the certificates set (default: the signer only; [] leaves the
    field out). digest_of: the bytes the messageDigest is computed over
    (default: the eContent)."""
    digest_oid, sig_oid, hash_cls = DIGESTS[digest]
    md = hashlib.new(hash_cls.name, econtent if digest_of is None else digest_of).digest()
    all_attrs = [seq(oid(OID_CONTENT_TYPE), set_of(oid(OID_DATA))),
                 seq(oid(OID_MESSAGE_DIGEST), set_of(octets(md)))] + list(attrs)
    # DER SET OF: sorted by encoding; the signature covers exactly this.
    signed_attrs_set = set_of(*all_attrs)
    signature = signer_key.sign(signed_attrs_set, padding.PKCS1v15(), hash_cls())
    if tamper:
        signature = signature[:-1] + bytes([signature[-1] ^ 1])
    # In the message the attributes sit under [0] IMPLICIT (same content).
    signed_attrs = b"\xa0" + signed_attrs_set[1:]
    if sid == "ski":
        sid_enc, version = ctx(0, ski_of(signer_cert), enc, constructed=False), 3
    else:
        sid_enc, version = issuer_and_serial(signer_cert, enc), 1
    sig_alg_enc = alg(OID_RSA, enc=enc) if sig_alg == "rsa" else alg(sig_oid, enc=enc)
    signer_info = seq(integer(version, enc), sid_enc, alg(digest_oid, enc=enc), signed_attrs,
                      sig_alg_enc, octets(signature, enc), enc=enc)

    if econtent_form == "absent":
        encap = seq(oid(OID_DATA, enc), enc=enc)
    elif econtent_form == "constructed-empty":
        encap = seq(oid(OID_DATA, enc), ctx(0, enc.tlv(0x24, b""), enc), enc=enc)
    elif econtent_form == "chunks":
        pieces = b"".join(octets(econtent[i:i + 100], enc) for i in range(0, len(econtent), 100))
        encap = seq(oid(OID_DATA, enc), ctx(0, enc.tlv(0x24, pieces), enc), enc=enc)
    elif econtent_form == "empty-explicit":
        encap = seq(oid(OID_DATA, enc), ctx(0, b"", enc), enc=enc)
    else:
        encap = seq(oid(OID_DATA, enc), ctx(0, octets(econtent, enc), enc), enc=enc)
    if certs is None:
        certs = [signer_cert]
    fields = [integer(3 if sid == "ski" else 1, enc), set_of(alg(digest_oid, enc=enc), enc=enc), encap]
    if certs:
        fields.append(ctx(0, b"".join(der_of(c) for c in certs), enc))
    fields.append(set_of(signer_info, enc=enc))
    return seq(oid(OID_SIGNED_DATA, enc), ctx(0, seq(*fields, enc=enc), enc), enc=enc)


def cert_rep_attrs(transaction_id, recipient_nonce, status, fail_info=None, fail_text=None,
                   sender_nonce=None, string_tag=T_PRINTABLE, tid_tag=None):
    """The SCEP signed attributes of a CertRep (messageType 3)."""
    sender_nonce = os.urandom(16) if sender_nonce is None else sender_nonce
    attrs = [string_attr(OID_SCEP_MESSAGE_TYPE, "3", string_tag),
             string_attr(OID_SCEP_PKI_STATUS, str(status), string_tag),
             string_attr(OID_SCEP_TRANSACTION_ID, transaction_id,
                         string_tag if tid_tag is None else tid_tag),
             octet_attr(OID_SCEP_SENDER_NONCE, sender_nonce)]
    if recipient_nonce is not None:
        attrs.append(octet_attr(OID_SCEP_RECIPIENT_NONCE, recipient_nonce))
    if fail_info is not None:
        attrs.append(string_attr(OID_SCEP_FAIL_INFO, str(fail_info), string_tag))
    if fail_text is not None:
        attrs.append(string_attr(OID_FAIL_INFO_TEXT, fail_text, T_UTF8))
    return attrs


# ----------------------------------------------------------------------------
# Reading requests (asn1crypto): what a CA does with a client's pkiMessage.

class IssuerAndSubject(a_core.Sequence):
    _fields = [("issuer", a_x509.Name), ("subject", a_x509.Name)]


def _attr_value(signer_info, dotted):
    for attr in signer_info["signed_attrs"]:
        if attr["type"].dotted == dotted:
            value = attr["values"][0]
            parsed = value.parsed if hasattr(value, "parsed") else value
            return parsed
    return None


def _attr_text(signer_info, dotted):
    v = _attr_value(signer_info, dotted)
    if v is None:
        return None
    return a_core.Asn1Value.load(v.dump()).native if not isinstance(v, str) else v


def _attr_bytes(signer_info, dotted):
    v = _attr_value(signer_info, dotted)
    if v is None:
        return None
    return a_core.OctetString.load(v.dump()).native


def parse_request(der, recipient_key):
    """Opens a client's pkiMessage: returns a dict with message_type (int),
    transaction_id, sender_nonce, signer_cert (cryptography), cipher name and
    the decrypted payload bytes. Raises ValueError on anything unexpected."""
    info = a_cms.ContentInfo.load(der)
    if info["content_type"].native != "signed_data":
        raise ValueError("not a SignedData")
    sd = info["content"]
    si = sd["signer_infos"][0]
    message_type = int(_attr_text(si, OID_SCEP_MESSAGE_TYPE))
    transaction_id = _attr_text(si, OID_SCEP_TRANSACTION_ID)
    sender_nonce = _attr_bytes(si, OID_SCEP_SENDER_NONCE)
    signer = None
    for choice in sd["certificates"] or []:
        signer = x509.load_der_x509_certificate(choice.chosen.dump())
        break
    econtent = sd["encap_content_info"]["content"].native
    env = a_cms.ContentInfo.load(econtent)["content"]
    ktri = env["recipient_infos"][0].chosen
    cek = recipient_key.decrypt(ktri["encrypted_key"].native, padding.PKCS1v15())
    eci = env["encrypted_content_info"]
    algo = eci["content_encryption_algorithm"]
    name = {v[0]: k for k, v in CIPHERS.items()}.get(algo["algorithm"].dotted)
    if name is None:
        raise ValueError("unsupported cipher " + algo["algorithm"].dotted)
    _, _, block, cls = CIPHERS[name]
    d = Cipher(cls(cek), modes.CBC(algo["parameters"].native)).decryptor()
    padded = d.update(eci["encrypted_content"].native) + d.finalize()
    unpadder = sym_padding.PKCS7(block * 8).unpadder()
    payload = unpadder.update(padded) + unpadder.finalize()
    return dict(message_type=message_type, transaction_id=transaction_id,
                sender_nonce=sender_nonce, signer_cert=signer, cipher=name, payload=payload)


def challenge_of(csr):
    """The challengePassword of a cryptography CSR, or None."""
    try:
        return csr.attributes.get_attribute_for_oid(
            x509.ObjectIdentifier("1.2.840.113549.1.9.7")).value.decode("utf-8", "replace")
    except (x509.AttributeNotFound, AttributeError, ValueError):
        return None


def issue(csr, ca_cert, ca_key, days=365):
    now = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    return (x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(ca_cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(ca_key, hashes.SHA256()))
