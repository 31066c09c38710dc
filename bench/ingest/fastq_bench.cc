// FASTQ ingest benchmark helper (driven by bench/ingest/run.sh).
//
//   fastq_bench gen READS [SEED]         writes a synthetic FASTQ to stdout: PE150-style
//                                        Illumina headers, NovaSeq-binned qualities (F : , #),
//                                        GC ~41 %, N ~0.01 %, ~4 % adapter read-through,
//                                        ~1.5 % duplicates (performance.md §6 A)
//   fastq_bench ingest FILE THREADS      runs the fused pass (SHA-256 + MD5 + inflate +
//                                        validate + QC) over FILE read in 1 MiB chunks and
//                                        prints one line: wall_s cpu_s raw_bytes reads
//   fastq_bench time CMD...              runs CMD (via /bin/sh -c) and prints wall_s cpu_s
//                                        (user+sys of the command and its children)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "crypto/crypt4gh.h"
#include "sequencing/fastq.h"

namespace {

double Seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

double CpuSelf() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return Seconds(ru.ru_utime) + Seconds(ru.ru_stime);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int Gen(long reads, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const std::string adapter = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCACATCTCGTATGCCGTCTTCTGCTTG";
  const char* barcodes[] = {"ACGTACGT+TTGACCAA", "GATTACAG+CCATGGTA", "TTAGGCAC+AGCTAGCT"};
  std::string out;
  out.reserve(1 << 22);
  std::string prev_seq;
  int tile = 1101, x = 1000, y = 1000;
  for (long i = 0; i < reads; ++i) {
    x += 1 + static_cast<int>(rng() % 200);
    if (x > 32000) {
      x = 1000 + static_cast<int>(rng() % 100);
      y += 1 + static_cast<int>(rng() % 400);
      if (y > 37000) {
        y = 1000;
        ++tile;
      }
    }
    out += "@A00123:456:HFWCLDSXY:2:" + std::to_string(tile) + ":" + std::to_string(x) + ":" +
           std::to_string(y) + " 1:N:0:" + barcodes[i % 3] + "\n";
    std::string seq;
    if (!prev_seq.empty() && u(rng) < 0.015) {
      seq = prev_seq;  // duplicate
    } else {
      seq.resize(150);
      for (char& c : seq) {
        double r = u(rng);
        c = r < 0.295 ? 'A' : r < 0.59 ? 'T' : r < 0.795 ? 'G' : 'C';
        if (u(rng) < 0.0001) c = 'N';
      }
      if (u(rng) < 0.04) {  // adapter read-through
        size_t insert = 80 + rng() % 60;
        for (size_t j = insert; j < 150; ++j) seq[j] = adapter[(j - insert) % adapter.size()];
      }
    }
    prev_seq = seq;
    out += seq;
    out += "\n+\n";
    // Binned qualities, mostly F with runs of ':' and ',' and rare '#', worse at the 3' end.
    char state = 'F';
    for (int j = 0; j < 150; ++j) {
      double drop = 0.015 + j * 0.0003;
      double r = u(rng);
      if (seq[static_cast<size_t>(j)] == 'N') {
        out += '#';
        continue;
      }
      if (state == 'F') {
        if (r < drop) state = ':';
        else if (r < drop * 1.35) state = ',';
      } else if (r < 0.35) {
        state = 'F';
      } else if (r < 0.36) {
        state = '#';
      }
      out += state;
      if (state == '#') state = ',';
    }
    out += '\n';
    if (out.size() > (1 << 22) - 1024) {
      fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int Ingest(const char* path, int threads) {
  FILE* f = std::fopen(path, "rb");
  if (!f) {
    std::perror(path);
    return 2;
  }
  double w0 = Now(), c0 = CpuSelf();
  zengen::sequencing::FastqOptions o;
  o.threads = threads;
  // As the upload path does: the uploaded bytes go through Crypt4GH encryption for the data
  // center's key on their way to the blob store (here the ciphertext is counted, not written).
  const auto keys = zengen::crypto::crypt4gh::GenerateKeyPair();
  auto enc = zengen::crypto::crypt4gh::Encryptor::Create(keys.secret_key, {keys.public_key});
  if (!enc.ok()) return 2;
  size_t cipher_bytes = 0;
  o.sink = [&](std::string_view b) {
    cipher_bytes += enc->Update(b).size();
    return zengen::Status::Ok();
  };
  zengen::sequencing::FastqIngest ingest(o);
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    auto s = ingest.Feed(std::string_view(buf.data(), n));
    if (!s.ok()) break;
  }
  std::fclose(f);
  auto r = ingest.Finish();
  cipher_bytes += enc->Finish().size();
  double wall = Now() - w0, cpu = CpuSelf() - c0;
  if (!r.ok()) {
    std::fprintf(stderr, "ingest failed: %s: %s\n", r.error().code.c_str(),
                 r.error().message.c_str());
    return 1;
  }
  std::printf("%.4f %.4f %lld %lld\n", wall, cpu, static_cast<long long>(r->fastq_bytes),
              static_cast<long long>(r->reads));
  std::fprintf(stderr, "reads=%lld bases=%lld q30=%.4f gc=%.4f n=%.6f mean_q=%.2f sha256=%s\n",
               static_cast<long long>(r->reads), static_cast<long long>(r->bases),
               r->q30_fraction, r->gc_fraction, r->n_rate, r->mean_quality,
               r->sha256_hex.c_str());
  std::fprintf(stderr, "crypt4gh bytes=%zu\n", cipher_bytes);
  return 0;
}

int Time(int argc, char** argv) {
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += std::string(i ? " " : "") + argv[i];
  double w0 = Now();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  double wall = Now() - w0;
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  std::printf("%.4f %.4f\n", wall, Seconds(ru.ru_utime) + Seconds(ru.ru_stime));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "gen" && argc >= 3) {
    return Gen(std::atol(argv[2]), argc > 3 ? static_cast<unsigned>(std::atol(argv[3])) : 42);
  }
  if (mode == "ingest" && argc == 4) return Ingest(argv[2], std::atoi(argv[3]));
  if (mode == "time" && argc >= 3) return Time(argc - 2, argv + 2);
  std::fprintf(stderr, "usage: fastq_bench gen READS [SEED] | ingest FILE THREADS | time CMD...\n");
  return 2;
}
