//go:build !goexperiment.simd

package backend

// simdBuild says whether this binary was built with GOEXPERIMENT=simd, which
// the pure-Go backend's SIMD matmul needs.
const simdBuild = false
