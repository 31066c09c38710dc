// Test support: python3 with Debian's PyNaCl as an independent Crypt4GH implementation, for
// interoperability checks (library zengen_crypt4gh_python; link it only into tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zengen::crypto::testing {

// The interpreter with Debian's python3-nacl and python3-bcrypt: ZENGEN_TEST_PYTHON if set,
// else /usr/bin/python3 (a pyenv or venv python3 earlier on PATH would not see them).
std::string PythonInterpreter();

struct PyRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `script` with python3 and the given arguments.
PyRun RunPython(std::string_view script, const std::vector<std::string>& args);

// Decrypts a Crypt4GH file: X25519 by crypto_scalarmult, the shared key by hashlib.blake2b,
// ChaCha20-Poly1305 by PyNaCl. argv: secret-key-hex in-file out-file. Exit 0 on success.
extern const std::string_view kCrypt4ghDecryptPy;

}  // namespace zengen::crypto::testing
