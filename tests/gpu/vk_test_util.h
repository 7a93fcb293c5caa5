#pragma once
// Helpers shared by the Vulkan suites: a device or a skip, buffers from vectors, and the
// normalized mean squared error used as the per-op tolerance.
#include "core/error.h"
#include "vk/buffer.h"
#include "vk/device.h"

#include <QtTest>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tenfold::test {

// The device for a suite, or the reason there is none (the suite then QSKIPs).
inline std::shared_ptr<vk::Device> openVulkanDevice(std::string* why)
{
    try {
        return std::make_shared<vk::Device>(-1);
    } catch (const std::exception& e) {
        *why = std::string("no Vulkan device available: ") + e.what();
        return nullptr;
    }
}

// sum (a-b)^2 / sum b^2 (b the reference); 0 for identical vectors.
inline double nmse(const std::vector<float>& a, const std::vector<float>& ref)
{
    if (a.size() != ref.size())
        return 1e30;
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i]))
            return 1e30;
        const double d = double(a[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    return den > 0 ? num / den : num;
}

inline std::vector<float> randomVector(size_t n, std::mt19937& rng, float scale = 1.0f)
{
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v)
        x = dist(rng);
    return v;
}

template <class T>
inline vk::Buffer deviceBuffer(vk::Device& d, const std::vector<T>& data)
{
    vk::Buffer b(d, data.size() * sizeof(T), vk::Buffer::Kind::Device);
    if (!data.empty())
        b.upload(data.data(), data.size() * sizeof(T));
    return b;
}

inline std::vector<float> readFloats(const vk::Buffer& b, size_t n)
{
    std::vector<float> v(n);
    b.download(v.data(), n * sizeof(float));
    return v;
}

} // namespace tenfold::test
