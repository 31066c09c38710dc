// Errors both store adapters (sqlite/, postgres/) give the same way. Internal to storage.
#pragma once

#include "common/result.h"

namespace zengen::storage {

// The error of every call on a transaction after one of its statements failed (kInternal
// "transaction_aborted"; see Transaction::Exec), the same on both backends.
Error TransactionAbortedError();

}  // namespace zengen::storage
