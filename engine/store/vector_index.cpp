#include "store/vector_index.h"

#include "store/response_cache.h" // similarities()

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace tenfold {
namespace {

void normalise(float* v, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; ++d)
        s += double(v[d]) * v[d];
    if (s <= 0)
        return;
    const float inv = float(1.0 / std::sqrt(s));
    for (int d = 0; d < dim; ++d)
        v[d] *= inv;
}

// The nearest centroid of each of n vectors (spherical k-means: the largest dot product).
std::vector<int> assign(const float* data, int64_t n, int dim, const std::vector<float>& centroids, int k)
{
    std::vector<int> out(static_cast<size_t>(n));
    std::vector<float> sims(static_cast<size_t>(k));
    for (int64_t i = 0; i < n; ++i) {
        similarities(data + i * dim, centroids.data(), k, dim, sims.data());
        out[size_t(i)] = int(std::max_element(sims.begin(), sims.end()) - sims.begin());
    }
    return out;
}

} // namespace

void IvfIndex::build(const std::vector<float>& data, int64_t n, int dim, int lists, int iterations, int64_t sample,
                     uint32_t seed)
{
    *this = IvfIndex();
    if (n <= 0 || dim <= 0)
        return;
    dim_ = dim;
    const int k = int(std::clamp<int64_t>(lists > 0 ? lists : int64_t(std::sqrt(double(n))), 1, n));
    std::mt19937_64 rng(seed);
    // Train on a random sample: k-means' cost is sample x k x dim per round.
    std::vector<int64_t> pick(static_cast<size_t>(n));
    std::iota(pick.begin(), pick.end(), 0);
    std::shuffle(pick.begin(), pick.end(), rng);
    pick.resize(size_t(std::min<int64_t>(n, std::max<int64_t>(sample, k))));
    std::vector<float> train(pick.size() * size_t(dim));
    for (size_t i = 0; i < pick.size(); ++i)
        std::copy_n(data.data() + pick[i] * dim, dim, train.data() + i * size_t(dim));
    centroids_.assign(train.begin(), train.begin() + int64_t(k) * dim); // k distinct sample vectors
    for (int it = 0; it < iterations; ++it) {
        const std::vector<int> a = assign(train.data(), int64_t(pick.size()), dim, centroids_, k);
        std::vector<double> sum(size_t(k) * size_t(dim), 0.0);
        std::vector<int64_t> count(size_t(k), 0);
        for (size_t i = 0; i < pick.size(); ++i) {
            ++count[size_t(a[i])];
            for (int d = 0; d < dim; ++d)
                sum[size_t(a[i]) * size_t(dim) + size_t(d)] += train[i * size_t(dim) + size_t(d)];
        }
        for (int c = 0; c < k; ++c) {
            if (count[size_t(c)] == 0) { // an empty list takes a random vector as its centre
                std::copy_n(train.data() + (rng() % pick.size()) * size_t(dim), dim, centroids_.data() + size_t(c) * size_t(dim));
                continue;
            }
            for (int d = 0; d < dim; ++d)
                centroids_[size_t(c) * size_t(dim) + size_t(d)] = float(sum[size_t(c) * size_t(dim) + size_t(d)]);
            normalise(centroids_.data() + size_t(c) * size_t(dim), dim);
        }
    }
    // File every vector under its nearest centroid, each list contiguous.
    const std::vector<int> a = assign(data.data(), n, dim, centroids_, k);
    offsets_.assign(size_t(k) + 1, 0);
    for (int64_t i = 0; i < n; ++i)
        ++offsets_[size_t(a[size_t(i)]) + 1];
    std::partial_sum(offsets_.begin(), offsets_.end(), offsets_.begin());
    std::vector<int64_t> at(offsets_.begin(), offsets_.end() - 1);
    order_.resize(size_t(n));
    vectors_.resize(size_t(n) * size_t(dim));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = at[size_t(a[size_t(i)])]++;
        order_[size_t(p)] = i;
        std::copy_n(data.data() + i * dim, dim, vectors_.data() + p * dim);
    }
}

void IvfIndex::add(const float* v, int64_t row)
{
    pending_.insert(pending_.end(), v, v + dim_);
    pendingRows_.push_back(row);
}

NearestVector IvfIndex::nearest(const float* q, int probes) const
{
    NearestVector best;
    if (!built())
        return best;
    const int k = lists();
    std::vector<float> sims(size_t(std::max<int64_t>(k, 1)));
    similarities(q, centroids_.data(), k, dim_, sims.data());
    best.compared = k;
    std::vector<int> rank(static_cast<size_t>(k));
    std::iota(rank.begin(), rank.end(), 0);
    const int p = std::clamp(probes, 1, k);
    std::partial_sort(rank.begin(), rank.begin() + p, rank.end(),
                      [&](int x, int y) { return sims[size_t(x)] > sims[size_t(y)]; });
    std::vector<float> row;
    auto scan = [&](const float* vecs, int64_t count, auto rowOf) {
        if (count <= 0)
            return;
        row.resize(size_t(count));
        similarities(q, vecs, count, dim_, row.data());
        best.compared += count;
        const int64_t i = int64_t(std::max_element(row.begin(), row.end()) - row.begin());
        if (best.row < 0 || row[size_t(i)] > best.similarity) {
            best.row = rowOf(i);
            best.similarity = row[size_t(i)];
        }
    };
    for (int r = 0; r < p; ++r) {
        const int l = rank[size_t(r)];
        const int64_t from = offsets_[size_t(l)], to = offsets_[size_t(l) + 1];
        scan(vectors_.data() + from * dim_, to - from, [&](int64_t i) { return order_[size_t(from + i)]; });
    }
    scan(pending_.data(), int64_t(pendingRows_.size()), [&](int64_t i) { return pendingRows_[size_t(i)]; });
    return best;
}

} // namespace tenfold
