#pragma once
// An inverted-file (IVF) index for the semantic response cache once it holds more vectors than a
// brute-force scan should read per lookup (ResponseCacheOptions::indexThreshold, 100,000 by
// default): k-means centroids (sqrt(n) of them, trained on a sample), every vector filed under its
// nearest centroid, and a lookup that scans only the lists of the `probes` centroids nearest the
// query. The vectors stay in one array, reordered so each list is contiguous (the SIMD scan reads
// it straight); vectors added after the build go to a pending tail that every lookup scans, and
// the owner rebuilds when that tail grows. Approximate: the nearest vector can sit in a list that
// was not probed; tests/engine/store/tst_vector_index measures how often against the brute-force
// scan, and lookups near the cache's strict threshold (near-duplicates) are the ones it serves.
#include <cstdint>
#include <vector>

namespace tenfold {

struct NearestVector {
    int64_t row = -1;     // index into the caller's vectors, or -1 when there are none
    float similarity = 0; // dot product (cosine for normalised vectors)
    int64_t compared = 0; // vectors and centroids the lookup read
};

class IvfIndex {
public:
    // Builds over `n` normalised vectors of `dim` floats (rows of `data`): `lists` centroids (0:
    // about sqrt(n)), k-means for `iterations` rounds on at most `sample` vectors, seeded.
    // Afterwards order()[i] is the caller's row stored at position i of vectors().
    void build(const std::vector<float>& data, int64_t n, int dim, int lists = 0, int iterations = 6,
               int64_t sample = 65536, uint32_t seed = 1);
    // Appends one vector (the caller's next row id) to the pending tail.
    void add(const float* v, int64_t row);
    // The nearest stored vector among the `probes` nearest lists and the pending tail.
    NearestVector nearest(const float* q, int probes) const;

    bool built() const { return dim_ > 0; }
    int64_t size() const { return int64_t(order_.size()) + int64_t(pendingRows_.size()); }
    int64_t pending() const { return int64_t(pendingRows_.size()); }
    int lists() const { return int(offsets_.empty() ? 0 : offsets_.size() - 1); }

private:
    int dim_ = 0;
    std::vector<float> centroids_;     // lists x dim, normalised
    std::vector<int64_t> offsets_;     // list l is positions [offsets_[l], offsets_[l + 1])
    std::vector<float> vectors_;       // reordered by list
    std::vector<int64_t> order_;       // position -> caller's row
    std::vector<float> pending_;       // added since the build
    std::vector<int64_t> pendingRows_;
};

} // namespace tenfold
