// Package govene holds the plain data of govene's API: hook sites, prompts,
// intervention configs, call arguments and outputs, with no GoMLX inside, so
// that a program or notebook cell that only talks to a session builds fast.
//
// The packages that compute (lm, pv, sweep) alias these types, so a value
// built here is the value they take.
package govene
