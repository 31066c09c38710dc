#include "crypto/crypt4gh_python.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/shell.h"

namespace zengen::crypto::testing {
namespace {

namespace fs = std::filesystem;


}  // namespace

std::string PythonInterpreter() {
  if (const char* p = std::getenv("ZENGEN_TEST_PYTHON"); p != nullptr && *p != '\0') return p;
  if (fs::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

PyRun RunPython(std::string_view script, const std::vector<std::string>& args) {
  std::random_device rd;
  const fs::path file = fs::temp_directory_path() / ("zg-py-" + std::to_string(rd()) + ".py");
  std::ofstream(file) << script;
  std::string cmd = ShellQuote(PythonInterpreter()) + " " + ShellQuote(file.string());
  for (const std::string& a : args) cmd += " " + ShellQuote(a);
  cmd += " 2>&1";
  PyRun run;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe != nullptr) {
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
    const int status = ::pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::error_code ec;
  fs::remove(file, ec);
  return run;
}

const std::string_view kCrypt4ghDecryptPy = R"PY(
import hashlib, sys
from nacl.bindings import (crypto_scalarmult, crypto_scalarmult_base,
                           crypto_aead_chacha20poly1305_ietf_decrypt)
from nacl.exceptions import CryptoError
sk = bytes.fromhex(sys.argv[1])
pk = crypto_scalarmult_base(sk)
data = open(sys.argv[2], 'rb').read()
le = lambda b: int.from_bytes(b, 'little')
assert data[:8] == b'crypt4gh', 'magic'
assert le(data[8:12]) == 1, 'version'
pos, keys = 16, []
for _ in range(le(data[12:16])):
    length = le(data[pos:pos + 4])
    packet = data[pos:pos + length]
    pos += length
    if le(packet[4:8]) != 0:
        continue
    writer = packet[8:40]
    shared = hashlib.blake2b(crypto_scalarmult(sk, writer) + pk + writer, digest_size=64).digest()[:32]
    try:
        body = crypto_aead_chacha20poly1305_ietf_decrypt(packet[52:], None, packet[40:52], shared)
    except CryptoError:
        continue
    if le(body[:4]) == 0:
        assert le(body[4:8]) == 0 and len(body) == 40
        keys.append(body[8:40])
if not keys:
    sys.exit('no header packet for this key')
out = bytearray()
while pos < len(data):
    segment = data[pos:pos + 65564]
    pos += len(segment)
    for key in keys:
        try:
            out += crypto_aead_chacha20poly1305_ietf_decrypt(segment[12:], None, segment[:12], key)
            break
        except CryptoError:
            pass
    else:
        sys.exit('segment MAC failure')
open(sys.argv[3], 'wb').write(out)
print(len(out))
)PY";

}  // namespace zengen::crypto::testing
