// The JSON request entry point (http::ParseJsonBody) and the field readers (JsonString,
// JsonInt, JsonStringList, OnlyFields).
//
// Input: the request body. Every outcome must be a value: a parsed object or a client error
// (4xx); an exception or a 5xx for any body aborts. Every field of a parsed object is read
// with each reader, each of which must also answer with a value or a 4xx naming the field.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/http.h"

namespace {

using zengen::Error;

void Expect4xx(const Error& e, const char* what) {
  const int status = zengen::http::StatusFor(e.kind);
  if (status >= 400 && status < 500) return;
  std::fprintf(stderr, "%s answered %d (%s: %s)\n", what, status, e.code.c_str(),
               e.message.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zengen::http::Request req;
  req.method = "POST";
  req.headers["Content-Type"] = "application/json; charset=utf-8";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = zengen::http::ParseJsonBody(req);
  if (!body.ok()) {
    Expect4xx(body.error(), "ParseJsonBody");
    return 0;
  }
  const nlohmann::json& j = *body;
  for (const auto& [name, value] : j.items()) {
    (void)value;
    for (bool required : {false, true}) {
      if (auto s = zengen::http::JsonString(j, name, required, 16); !s.ok()) {
        Expect4xx(s.error(), "JsonString");
      }
      if (auto i = zengen::http::JsonInt(j, name, required, 7); !i.ok()) {
        Expect4xx(i.error(), "JsonInt");
      }
      if (auto l = zengen::http::JsonStringList(j, name, required); !l.ok()) {
        Expect4xx(l.error(), "JsonStringList");
      }
    }
  }
  for (const char* absent : {"", "missing"}) {
    if (auto s = zengen::http::JsonString(j, absent, true); !s.ok()) Expect4xx(s.error(), "JsonString");
  }
  if (auto st = zengen::http::OnlyFields(j, {"username", "password", "reason"}); !st.ok()) {
    Expect4xx(st.error(), "OnlyFields");
  }
  // A parsed body must serialise again (responses and audit details dump request values).
  (void)j.dump();
  return 0;
}
