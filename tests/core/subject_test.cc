#include "core/subject.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>

#include <string>

namespace scepd {
namespace {

std::string Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return "<unconvertible>";
  std::string text(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return text;
}

std::string Value(const X509_NAME* name, int i) {
  return Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
}
int Nid(const X509_NAME* name, int i) {
  return OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, i)));
}
int Set(const X509_NAME* name, int i) { return X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i)); }
int StringType(const X509_NAME* name, int i) {
  return ASN1_STRING_type(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
}

ossl::Ptr<X509_NAME> MustParse(std::string_view text) {
  auto r = ParseSubject(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message;
  return r.ok() ? std::move(r).value() : ossl::Ptr<X509_NAME>(X509_NAME_new());
}

TEST(SubjectTest, ParsesRouterExampleKeepingWhitespace) {
  auto name = MustParse("/DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-SN");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 4);
  EXPECT_EQ(Nid(name.get(), 0), NID_domainComponent);
  EXPECT_EQ(Value(name.get(), 0), "org");
  EXPECT_EQ(Value(name.get(), 1), "OpenXPKI");
  EXPECT_EQ(Value(name.get(), 2), "Test Deployment");
  EXPECT_EQ(Nid(name.get(), 3), NID_commonName);
  EXPECT_EQ(Value(name.get(), 3), "router-SN");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Set(name.get(), i), i) << "one attribute per RDN";
}

TEST(SubjectTest, KeepsLeadingAndTrailingWhitespaceInValues) {
  auto name = MustParse("/CN=  two  spaces \t/O= x");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 2);
  EXPECT_EQ(Value(name.get(), 0), "  two  spaces \t");
  EXPECT_EQ(Value(name.get(), 1), " x");
}

TEST(SubjectTest, BackslashEscapesAnyCharacter) {
  auto name = MustParse(R"(/CN=a\/b\+c\=d\\e\x/O=plain=equals)");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 2);
  EXPECT_EQ(Value(name.get(), 0), R"(a/b+c=d\ex)");
  EXPECT_EQ(Value(name.get(), 1), "plain=equals") << "only the first '=' separates";
}

TEST(SubjectTest, PlusMakesMultiValuedRdn) {
  auto name = MustParse("/O=Example/CN=a+UID=b+serialNumber=42/OU=x");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 5);
  EXPECT_EQ(Set(name.get(), 0), 0);
  EXPECT_EQ(Set(name.get(), 1), 1);
  EXPECT_EQ(Set(name.get(), 2), 1);
  EXPECT_EQ(Set(name.get(), 3), 1);
  EXPECT_EQ(Set(name.get(), 4), 2);
  EXPECT_EQ(Nid(name.get(), 2), NID_userId);
  EXPECT_EQ(Value(name.get(), 2), "b");
  EXPECT_EQ(Nid(name.get(), 3), NID_serialNumber);
  EXPECT_EQ(Value(name.get(), 3), "42");
}

TEST(SubjectTest, AcceptsShortLongAndDottedTypes) {
  auto name = MustParse("/commonName=a/2.5.4.10=org/1.2.3.4.5=custom/emailAddress=x@y");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 4);
  EXPECT_EQ(Nid(name.get(), 0), NID_commonName);
  EXPECT_EQ(Nid(name.get(), 1), NID_organizationName);
  EXPECT_EQ(Value(name.get(), 1), "org");
  EXPECT_EQ(Nid(name.get(), 2), NID_undef);
  char oid[64];
  OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name.get(), 2)), 1);
  EXPECT_STREQ(oid, "1.2.3.4.5");
  EXPECT_EQ(Value(name.get(), 2), "custom");
  EXPECT_EQ(Nid(name.get(), 3), NID_pkcs9_emailAddress);
}

// Every attribute type by short and by long name is the object
// OBJ_txt2obj gives: the usual ones are looked up without it (it loads
// openssl.cnf on first use), the others through it.
TEST(SubjectTest, TypesAreWhatObjTxt2ObjGives) {
  for (int nid : {NID_commonName, NID_countryName, NID_localityName, NID_stateOrProvinceName,
                  NID_organizationName, NID_organizationalUnitName, NID_serialNumber,
                  NID_pkcs9_emailAddress, NID_domainComponent, NID_userId, NID_title,
                  NID_givenName, NID_surname, NID_initials, NID_pseudonym, NID_dnQualifier,
                  NID_generationQualifier, NID_streetAddress, NID_postalCode, NID_name,
                  NID_description, NID_businessCategory, NID_pkcs9_unstructuredName,
                  NID_pkcs9_unstructuredAddress, NID_houseIdentifier, NID_role}) {
    for (const char* type : {OBJ_nid2sn(nid), OBJ_nid2ln(nid)}) {
      const std::string value = nid == NID_countryName ? "DE" : "x";
      auto name = ParseSubject("/" + std::string(type) + "=" + value);
      ASSERT_TRUE(name.ok()) << type << ": " << name.error().message;
      ASSERT_EQ(X509_NAME_entry_count(name->get()), 1) << type;
      EXPECT_EQ(Nid(name->get(), 0), OBJ_txt2nid(type)) << type;
      EXPECT_EQ(Nid(name->get(), 0), nid) << type;
    }
  }
  // Case matters, as it does to OBJ_txt2obj.
  EXPECT_FALSE(ParseSubject("/cn=x").ok());
}

TEST(SubjectTest, ValuesAreUtf8AndCountryIsPrintable) {
  auto name = MustParse("/C=DE/CN=Gr\xC3\xBC\xC3\x9F" "e");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 2);
  EXPECT_EQ(StringType(name.get(), 0), V_ASN1_PRINTABLESTRING);
  EXPECT_EQ(StringType(name.get(), 1), V_ASN1_UTF8STRING);
  EXPECT_EQ(Value(name.get(), 1), "Gr\xC3\xBC\xC3\x9F" "e");
}

TEST(SubjectTest, ToleratesOneTrailingSlash) {
  auto name = MustParse("/CN=a/");
  ASSERT_EQ(X509_NAME_entry_count(name.get()), 1);
  EXPECT_EQ(Value(name.get(), 0), "a");
}

struct BadSubject {
  const char* text;
  const char* expected;  // substring of the message
};

TEST(SubjectTest, ErrorsNameTheBadPart) {
  const BadSubject cases[] = {
      {"", "subject: empty"},
      {"CN=foo", "subject: no leading '/' in 'CN=foo'"},
      {"/CN=a/XX=foo", "subject: unknown attribute type 'XX' in component 2 ('XX=foo')"},
      {"/CN=a/AES-128-OCB=x", "subject: unknown attribute type 'AES-128-OCB' in component 2"},
      {"/CN=a/Ofoo", "subject: missing '=' in component 2 ('Ofoo')"},
      {"/=foo", "subject: empty attribute type in component 1 ('=foo')"},
      {"/O=x/CN=", "subject: empty value in component 2 ('CN=')"},
      {"/CN=a+UID=", "subject: empty value in component 1 ('UID=')"},
      {"/CN=a\\", "subject: trailing lone backslash in component 1 ('CN=a\\')"},
      {"/CN=a//O=b", "subject: empty component 2"},
      {"/", "subject: empty component 1"},
      {"/CN=a+", "subject: empty attribute in component 1 ('CN=a+')"},
      {"/O=x/C=DEU", "subject: bad value for 'C' in component 2 ('C=DEU')"},
      {"/CN=\xFF\xFE", "subject: bad value for 'CN' in component 1"},
  };
  for (const BadSubject& c : cases) {
    auto r = ParseSubject(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(r.error().message.find(c.expected), std::string::npos)
        << "input " << c.text << "\nmessage " << r.error().message << "\nexpected " << c.expected;
  }
}

TEST(SubjectTest, FormatsInTheSameForm) {
  auto name = MustParse("/commonName=a/2.5.4.10=org/1.2.3.4.5=custom/CN=x+UID=y");
  EXPECT_EQ(FormatSubject(name.get()), "/CN=a/O=org/1.2.3.4.5=custom/CN=x+UID=y");
  EXPECT_EQ(FormatSubject(nullptr), "");
  ossl::Ptr<X509_NAME> empty(X509_NAME_new());
  EXPECT_EQ(FormatSubject(empty.get()), "");
}

TEST(SubjectTest, FormatEscapesSpecialCharacters) {
  auto name = MustParse(R"(/CN=a\/b\+c\=d\\e)");
  EXPECT_EQ(FormatSubject(name.get()), R"(/CN=a\/b\+c\=d\\e)");
}

TEST(SubjectTest, FormatThenParseRoundTrips) {
  const char* subjects[] = {
      "/DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-SN",
      R"(/O=a\/b\\c/OU= spaced  out /CN=x\+y+UID=u\=v/1.2.3.4=z)",
      "/C=DE/ST=Bayern/L=M\xC3\xBCnchen/CN=\xE2\x82\xAC uro",
  };
  for (const char* text : subjects) {
    auto name = MustParse(text);
    const std::string formatted = FormatSubject(name.get());
    auto again = MustParse(formatted);
    EXPECT_EQ(X509_NAME_cmp(name.get(), again.get()), 0) << text << " -> " << formatted;
    EXPECT_EQ(FormatSubject(again.get()), formatted);
    ASSERT_EQ(X509_NAME_entry_count(name.get()), X509_NAME_entry_count(again.get()));
    for (int i = 0; i < X509_NAME_entry_count(name.get()); ++i) {
      EXPECT_EQ(Value(name.get(), i), Value(again.get(), i));
      EXPECT_EQ(Set(name.get(), i), Set(again.get(), i));
    }
  }
}

TEST(SubjectTest, FormatsNonUtf8StringTypesAsUtf8) {
  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  // "Ä/" as a BMPString (UTF-16BE).
  const unsigned char bmp[] = {0x00, 0xC4, 0x00, '/'};
  ASSERT_EQ(X509_NAME_add_entry_by_NID(name.get(), NID_commonName, V_ASN1_BMPSTRING, bmp,
                                       sizeof(bmp), -1, 0),
            1);
  EXPECT_EQ(FormatSubject(name.get()), "/CN=\xC3\x84\\/");
}

}  // namespace
}  // namespace scepd
