// qkeras-ts Verilator harness: drives a generated top module (prefix Vqk_top) through its AXI-Stream style
// ports and records what comes out.
//
//   sim <in.hex> <out.txt> <seed> <in_gap_permille> <out_stall_permille> <expected_out_words> [max_cycles]
//
// in.hex holds one input word per line in hex (in_data, low bits first as usual). The harness presents the
// words in order: before each word it waits a random number of cycles (probability in_gap per cycle), and
// once in_valid is high it keeps the word until in_ready takes it, as AXI-Stream requires. out_ready is low
// with probability out_stall on each cycle (back-pressure). out.txt gets one line per accepted input
// ("i <cycle>") and per output word ("o <cycle> <hex>"), then "cycles <n>". Exit code 0 when every
// expected output word arrived, 3 on a timeout.
#include "Vqk_top.h"
#include "verilated.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

using Words = std::vector<uint32_t>;

// Hex text to 32-bit words, least significant word first.
Words parseHex(const std::string& text) {
    Words words;
    uint32_t word = 0;
    int bits = 0;
    for (auto it = text.rbegin(); it != text.rend(); ++it) {
        const char c = *it;
        uint32_t v;
        if (c >= '0' && c <= '9') v = static_cast<uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f') v = static_cast<uint32_t>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v = static_cast<uint32_t>(c - 'A' + 10);
        else continue;
        word |= v << bits;
        bits += 4;
        if (bits == 32) {
            words.push_back(word);
            word = 0;
            bits = 0;
        }
    }
    if (bits > 0) words.push_back(word);
    return words;
}

std::string toHex(const Words& words) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (auto it = words.rbegin(); it != words.rend(); ++it) {
        for (int shift = 28; shift >= 0; shift -= 4) out.push_back(digits[(*it >> shift) & 0xf]);
    }
    const auto first = out.find_first_not_of('0');
    return first == std::string::npos ? std::string("0") : out.substr(first);
}

// Ports up to 64 bits are integers in Verilator; wider ones are VlWide word arrays.
template <typename T>
void setPort(T& port, const Words& w) {
    uint64_t v = w.empty() ? 0 : w[0];
    if (w.size() > 1 && sizeof(T) > 4) v |= static_cast<uint64_t>(w[1]) << 32;
    port = static_cast<T>(v);
}

template <std::size_t N>
void setPort(VlWide<N>& port, const Words& w) {
    for (std::size_t i = 0; i < N; ++i) port.at(i) = i < w.size() ? w[i] : 0;
}

template <typename T>
Words getPort(const T& port) {
    const uint64_t v = static_cast<uint64_t>(port);
    return Words{static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
}

template <std::size_t N>
Words getPort(const VlWide<N>& port) {
    Words w(N);
    for (std::size_t i = 0; i < N; ++i) w[i] = port.at(i);
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        std::cerr << "usage: sim <in.hex> <out.txt> <seed> <in_gap_permille> <out_stall_permille> <expected_out_words> [max_cycles]\n";
        return 2;
    }
    const std::string inPath = argv[1];
    const std::string outPath = argv[2];
    const unsigned long seed = std::strtoul(argv[3], nullptr, 10);
    const long inGap = std::strtol(argv[4], nullptr, 10);
    const long outStall = std::strtol(argv[5], nullptr, 10);
    const unsigned long long expected = std::strtoull(argv[6], nullptr, 10);
    const unsigned long long maxCycles = argc > 7 ? std::strtoull(argv[7], nullptr, 10) : 0ULL;

    std::vector<Words> inputs;
    {
        std::ifstream in(inPath);
        if (!in) {
            std::cerr << "cannot read " << inPath << "\n";
            return 2;
        }
        std::string line;
        while (std::getline(in, line)) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            inputs.push_back(parseHex(line));
        }
    }
    FILE* out = std::fopen(outPath.c_str(), "w");
    if (out == nullptr) {
        std::cerr << "cannot write " << outPath << "\n";
        return 2;
    }

    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<long> permille(0, 999);
    const unsigned long long limit = maxCycles != 0 ? maxCycles : 1000ULL + 64ULL * (inputs.size() + expected) * 1000ULL;

    VerilatedContext context;
    context.commandArgs(argc, argv);
    Vqk_top top(&context);

    top.clk = 0;
    top.rst = 1;
    top.in_valid = 0;
    top.out_ready = 0;
    for (int i = 0; i < 4; ++i) {
        top.clk = 0;
        top.eval();
        top.clk = 1;
        top.eval();
    }
    top.rst = 0;

    std::size_t next = 0;
    bool holding = false;
    unsigned long long received = 0;
    unsigned long long cycle = 0;
    while (received < expected && cycle < limit) {
        // Inputs change between clock edges; a presented word stays until it is taken.
        if (!holding && next < inputs.size() && permille(rng) >= inGap) {
            holding = true;
            setPort(top.in_data, inputs[next]);
        }
        top.in_valid = holding ? 1 : 0;
        top.out_ready = permille(rng) >= outStall ? 1 : 0;
        top.clk = 0;
        top.eval();
        const bool inFire = top.in_valid && top.in_ready;
        const bool outFire = top.out_valid && top.out_ready;
        if (outFire) {
            std::fprintf(out, "o %llu %s\n", cycle, toHex(getPort(top.out_data)).c_str());
            ++received;
        }
        if (inFire) std::fprintf(out, "i %llu\n", cycle);
        top.clk = 1;
        top.eval();
        ++cycle;
        if (inFire) {
            holding = false;
            ++next;
        }
    }
    std::fprintf(out, "cycles %llu\n", cycle);
    std::fclose(out);
    top.final();
    if (received < expected) {
        std::cerr << "timeout after " << cycle << " cycles: " << received << " of " << expected
                  << " output words, " << next << " of " << inputs.size() << " input words accepted\n";
        return 3;
    }
    return 0;
}
