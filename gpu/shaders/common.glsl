// Shared by every shader: work-group size from specialization constant 0, and the work-group
// reductions (subgroup arithmetic when USE_SUBGROUP is defined, else a shared-memory tree).
// Work-group sizes are powers of two, at most 256.
layout(local_size_x_id = 0) in;
#define WG_SIZE gl_WorkGroupSize.x

#ifdef USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
shared float red_sh[64];

float wgSum(float v)
{
    v = subgroupAdd(v);
    if (subgroupElect())
        red_sh[gl_SubgroupID] = v;
    barrier();
    float r = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i)
        r += red_sh[i];
    barrier();
    return r;
}

float wgMax(float v)
{
    v = subgroupMax(v);
    if (subgroupElect())
        red_sh[gl_SubgroupID] = v;
    barrier();
    float r = red_sh[0];
    for (uint i = 1; i < gl_NumSubgroups; ++i)
        r = max(r, red_sh[i]);
    barrier();
    return r;
}
#else
shared float red_sh[256];

float wgSum(float v)
{
    const uint tid = gl_LocalInvocationID.x;
    red_sh[tid] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (tid < s)
            red_sh[tid] += red_sh[tid + s];
        barrier();
    }
    float r = red_sh[0];
    barrier();
    return r;
}

float wgMax(float v)
{
    const uint tid = gl_LocalInvocationID.x;
    red_sh[tid] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (tid < s)
            red_sh[tid] = max(red_sh[tid], red_sh[tid + s]);
        barrier();
    }
    float r = red_sh[0];
    barrier();
    return r;
}
#endif
