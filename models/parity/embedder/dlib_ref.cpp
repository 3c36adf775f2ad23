// Reference descriptors for the dlib ResNet embedder, computed by C++ dlib itself.
//
// The network type is written out from the architecture of dlib's
// dlib_face_recognition_resnet_model_v1 (the same .dat is deserialised into it; dlib checks
// every layer's tag and shape while doing so). Input: a file of N raw chips, each 150x150
// RGB u8 row-major (67,500 bytes); output: one line per chip, 128 floats printed with
// 9 significant digits (exact for f32).
//
// Build: g++ -O2 -std=c++17 dlib_ref.cpp $(pkg-config --cflags --libs dlib-1) -o dlib_ref
// Run:   ./dlib_ref dlib_face_recognition_resnet_model_v1.dat chips.bin > descriptors.txt
#include <dlib/dnn.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

using namespace dlib;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2,
    input_rgb_image_sized<150>>>>>>>>>>>>>;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: dlib_ref MODEL.dat CHIPS.bin\n";
        return 2;
    }
    anet_type net;
    deserialize(argv[1]) >> net;
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<unsigned char> raw((std::istreambuf_iterator<char>(in)), {});
    const size_t chip_bytes = 150 * 150 * 3;
    if (raw.empty() || raw.size() % chip_bytes != 0) {
        std::cerr << "chips file must hold a whole number of 67500-byte chips\n";
        return 2;
    }
    std::vector<matrix<rgb_pixel>> chips(raw.size() / chip_bytes);
    for (size_t n = 0; n < chips.size(); ++n) {
        chips[n].set_size(150, 150);
        const unsigned char* p = raw.data() + n * chip_bytes;
        for (long r = 0; r < 150; ++r)
            for (long c = 0; c < 150; ++c, p += 3) chips[n](r, c) = rgb_pixel(p[0], p[1], p[2]);
    }
    std::vector<matrix<float, 0, 1>> descriptors = net(chips);
    for (const auto& d : descriptors) {
        for (long i = 0; i < d.size(); ++i) std::printf(i ? " %.9g" : "%.9g", d(i));
        std::printf("\n");
    }
    return 0;
}
