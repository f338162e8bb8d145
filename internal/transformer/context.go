package transformer

import (
	"errors"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.

	"github.com/govene/govene/lm"
)

// ContextInputs are what the attention layers of one forward pass share.
type ContextInputs struct {
	// Size and Len are the batch size b and the number of new tokens s.
	Size, Len int
	// Mask [b,s] is 1 for tokens and 0 for padding; nil means no padding.
	// With a Cache, the cache's own mask is used instead.
	Mask *Node
	// Positions [b,s] are the new tokens' position ids, for rotary
	// embeddings (nil when the model has none).
	Positions *Node
	// Cache, when set, makes the pass incremental (see lm.KVCache): keys
	// are the cache's L slots, new token q sits at slot Start+q, and
	// Attention writes the new keys and values into the cache.
	Cache *lm.KVCache
}

// Context is built once per forward pass by NewContext and shared by its
// attention layers: the slots of queries and keys, the key padding mask,
// the KV cache and the masks and rotations built so far (each built once).
type Context struct {
	in           ContextInputs
	nk           int   // number of keys: s, or the cache's L slots
	qSlot, kSlot *Node // [s,L] int32: each query's and key's slot
	keyOK        *Node // [b,1,1,L] bool; nil: every key is real
	write        *Node // [s,L] float32: 1 where new token q lands; nil without cache
	allowed      map[[2]int]*Node
	angles       map[Rotary]RotaryAngles
}

// NewContext returns the Context of a pass on graph g. It panics (while
// the graph is built) when the inputs' shapes disagree.
func NewContext(g *Graph, in ContextInputs) *Context {
	c := &Context{in: in, nk: in.Len, allowed: map[[2]int]*Node{}, angles: map[Rotary]RotaryAngles{}}
	s := in.Len
	keyMask := in.Mask
	if kv := in.Cache; kv != nil {
		c.nk, keyMask = kv.Mask.Shape().Dimensions[1], kv.Mask
		c.qSlot = Add(Iota(g, shapes.Make(dtypes.Int32, s, c.nk), 0), ConvertDType(kv.Start, dtypes.Int32))
		c.write = ConvertDType(Equal(c.qSlot, Iota(g, shapes.Make(dtypes.Int32, s, c.nk), 1)), dtypes.Float32)
	} else {
		c.qSlot = Iota(g, shapes.Make(dtypes.Int32, s, c.nk), 0)
	}
	c.kSlot = Iota(g, shapes.Make(dtypes.Int32, s, c.nk), 1)
	if keyMask != nil {
		c.keyOK = Reshape(GreaterThan(keyMask, ScalarZero(g, keyMask.DType())), in.Size, 1, 1, c.nk)
	}
	return c
}

// Cache returns the pass's KV cache (nil when the pass is not incremental).
func (c *Context) Cache() *lm.KVCache { return c.in.Cache }

// Allowed returns the attention mask [b,heads,s,L] (true: query q may
// attend to key k): key k is at or before query q's slot, is not padding
// and, for window > 0, is within the sliding window (a query at slot i
// sees keys j with i-window < j <= i). Masks are built once per (heads,
// window).
func (c *Context) Allowed(heads, window int) *Node {
	key := [2]int{heads, window}
	if a, ok := c.allowed[key]; ok {
		return a
	}
	g := c.qSlot.Graph()
	b, s, nk := c.in.Size, c.in.Len, c.nk
	seen := GreaterOrEqual(c.qSlot, c.kSlot)
	if window > 0 {
		seen = LogicalAnd(seen, GreaterThan(c.kSlot, Sub(c.qSlot, Scalar(g, dtypes.Int32, window))))
	}
	allowed := BroadcastToDims(ExpandAxes(seen, 0, 1), b, 1, s, nk) // [b,1,s,L]
	if c.keyOK != nil {
		allowed = LogicalAnd(allowed, BroadcastToDims(c.keyOK, b, 1, s, nk))
	}
	allowed = BroadcastToDims(allowed, b, heads, s, nk)
	c.allowed[key] = allowed
	return allowed
}

// Rotations returns r's angles for the pass's positions, built once per
// Rotary. It panics (while the graph is built) when ContextInputs had no
// Positions.
func (c *Context) Rotations(r Rotary) RotaryAngles {
	if a, ok := c.angles[r]; ok {
		return a
	}
	if c.in.Positions == nil {
		panic(errors.New("transformer: rotary embeddings need the pass's positions (ContextInputs.Positions is nil)"))
	}
	a := r.Angles(c.in.Positions)
	c.angles[r] = a
	return a
}

// store writes the new rows x [b,h,s,dh] into their slots of cache
// [b,h,L,dh] and returns the updated cache.
func (c *Context) store(cache, x *Node) *Node {
	keep := OneMinus(ReduceSum(c.write, 0)) // [L]: 0 where a new token lands
	return Add(Mul(cache, Reshape(keep, 1, 1, c.nk, 1)), Einsum("ql,bhqd->bhld", c.write, x))
}

// lowest is the score masked keys get before the softmax.
func lowest(g *Graph) *Node { return Scalar(g, dtypes.Float32, float32(-math.MaxFloat32)) }
