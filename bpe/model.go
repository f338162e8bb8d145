package bpe

import (
	"fmt"
	"hash/maphash"
	"sort"
	"sync"
)

// EndOfText is GPT-2's end-of-text special token.
const EndOfText = "<|endoftext|>"

// Tokenizer is a BPE tokenizer: byte-level (GPT-2, GPT-NeoX, Llama 3,
// Qwen2) or SentencePiece-style with byte fallback (Llama 2, Mistral,
// Gemma). It is immutable after it is built by GPT2, Load,
// LoadTokenizerJSON or LoadFiles and safe for concurrent use by multiple
// goroutines (its word cache is internally synchronized).
type Tokenizer struct {
	vocab     map[string]int // vocab.json form ("ĠParis") -> id, added tokens included
	tokBytes  [][]byte       // id -> bytes the token stands for; nil where the id is unused
	tokText   []string       // id -> lossy UTF-8 of tokBytes
	tokForm   []string       // id -> vocab.json form ("ĠParis") or added token content
	byDecoded map[string]int // string(tokBytes[id]) -> lowest such id
	byteID    [256]int32     // initial symbol id of each byte, -1 when not in vocab
	merges    map[uint64]mergeRule

	// added tokens, split out of the text before pre-tokenization, in two
	// passes like Hugging Face's AddedVocabulary: first those matched on the
	// raw text, then those matched on the normalized text.
	addedRaw, addedNorm []addedToken

	eot            int
	addPrefixSpace bool // ByteLevel pre-tokenizer's add_prefix_space
	trimOffsets    bool // ByteLevel post-processor's trim_offsets
	trimPrefix     bool // ByteLevel post-processor's add_prefix_space
	ignoreMerges   bool // BPE model's ignore_merges

	// The pipeline of tokenizers other than GPT-2's (see pipeline.go);
	// general is false for GPT-2's, which takes the original fast path.
	pipeline
	bos, eos int
	// prefix and suffix are the special token ids Encode adds around the
	// text (the post-processor's template, or tokenizer_config.json's
	// add_bos_token and add_eos_token).
	prefix, suffix []int

	seed  maphash.Seed
	cache [cacheShards]cacheShard
	pool  sync.Pool // *bpeScratch
}

// mergeRule is the rank of a merge and the id of the merged token.
type mergeRule struct {
	rank, id int32
}

// addedToken is a token matched literally in the input text.
type addedToken struct {
	content             string
	id                  int
	singleWord          bool
	lstrip, rstrip      bool
	normalized, special bool
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// tokenizerSpec is everything needed to build a Tokenizer.
type tokenizerSpec struct {
	vocab  map[string]int
	merges [][2]string
	added  []addedToken

	addPrefixSpace, trimOffsets, trimPrefix, ignoreMerges bool

	pipe pipeline
}

// build checks spec and builds the Tokenizer.
func build(spec *tokenizerSpec) (_ *Tokenizer, err error) {
	t := &Tokenizer{
		vocab:          make(map[string]int, len(spec.vocab)+len(spec.added)),
		merges:         make(map[uint64]mergeRule, len(spec.merges)),
		eot:            -1,
		addPrefixSpace: spec.addPrefixSpace,
		trimOffsets:    spec.trimOffsets,
		trimPrefix:     spec.trimPrefix,
		ignoreMerges:   spec.ignoreMerges,
		pipeline:       spec.pipe,
		bos:            -1,
		eos:            -1,
		seed:           maphash.MakeSeed(),
	}
	size := 0
	for tok, id := range spec.vocab {
		if id < 0 || id > MaxTokenID {
			return nil, fmt.Errorf("id %d of token %q is out of range; valid: [0, %d]", id, tok, MaxTokenID)
		}
		size = max(size, id+1)
		t.vocab[tok] = id
	}
	if len(spec.vocab) == 0 {
		return nil, fmt.Errorf("empty vocabulary")
	}
	for _, a := range spec.added {
		if a.id < 0 || a.id > MaxTokenID {
			return nil, fmt.Errorf("id %d of added token %q is out of range; valid: [0, %d]", a.id, a.content, MaxTokenID)
		}
		if a.content == "" {
			return nil, fmt.Errorf("empty added token with id %d", a.id)
		}
		size = max(size, a.id+1)
	}
	t.tokBytes = make([][]byte, size)
	t.tokText = make([]string, size)
	t.tokForm = make([]string, size)
	set := func(tok string, id int) {
		b := t.modelTokenBytes(tok)
		t.tokBytes[id] = b
		t.tokText[id] = lossyString(b)
		t.tokForm[id] = tok
	}
	for tok, id := range spec.vocab {
		set(tok, id)
	}
	for _, a := range spec.added {
		// Like Hugging Face, an added token's text wins over the model's
		// vocab entry with the same id.
		set(a.content, a.id)
		t.vocab[a.content] = a.id
		if a.normalized {
			t.addedNorm = append(t.addedNorm, a)
		} else {
			t.addedRaw = append(t.addedRaw, a)
		}
		if a.content == EndOfText {
			t.eot = a.id
		}
	}
	if t.eot < 0 {
		if id, ok := t.vocab[EndOfText]; ok {
			t.eot = id
		}
	}
	t.bos, t.eos = t.eot, t.eot
	t.byDecoded = make(map[string]int, size)
	// Lowest id wins, and an ordinary token wins over a byte-fallback
	// token "<0xNN>" with the same text.
	for _, fallback := range []bool{true, false} {
		for id := size - 1; id >= 0; id-- {
			if _, isByte := byteToken(t.tokForm[id]); t.tokBytes[id] != nil && isByte == fallback {
				t.byDecoded[string(t.tokBytes[id])] = id
			}
		}
	}
	for b := 0; b < 256; b++ {
		t.byteID[b] = -1
		if id, ok := spec.vocab[string(byteToRune[b])]; ok {
			t.byteID[b] = int32(id)
		}
		t.fallbackID[b] = -1
		if id, ok := spec.vocab[fmt.Sprintf("<0x%02X>", b)]; ok && t.byteFallback {
			t.fallbackID[b] = int32(id)
		}
	}
	if t.addedNormN, err = t.normalizedAdded(); err != nil {
		return nil, err
	}
	for i, m := range spec.merges {
		a, okA := spec.vocab[m[0]]
		b, okB := spec.vocab[m[1]]
		ab, okAB := spec.vocab[m[0]+m[1]]
		switch {
		case !okA:
			return nil, fmt.Errorf("merge %d %q: token %q not in vocabulary", i+1, m[0]+" "+m[1], m[0])
		case !okB:
			return nil, fmt.Errorf("merge %d %q: token %q not in vocabulary", i+1, m[0]+" "+m[1], m[1])
		case !okAB:
			return nil, fmt.Errorf("merge %d %q: merged token %q not in vocabulary", i+1, m[0]+" "+m[1], m[0]+m[1])
		}
		// A later duplicate overrides an earlier one, as in Hugging Face.
		t.merges[pairKey(int32(a), int32(b))] = mergeRule{rank: int32(i), id: int32(ab)}
	}
	// Deterministic matching order (by id) for added tokens.
	sort.SliceStable(t.addedRaw, func(i, j int) bool { return t.addedRaw[i].id < t.addedRaw[j].id })
	sort.SliceStable(t.addedNorm, func(i, j int) bool { return t.addedNorm[i].id < t.addedNorm[j].id })
	t.pool.New = func() any { return new(bpeScratch) }
	return t, nil
}

// symbol is one node of the doubly linked list a word is merged in.
type symbol struct {
	id         int32
	start      int32 // byte offset in the word
	prev, next int32
	dead       bool
}

// candidate is a possible merge in the priority queue, ordered by rank and
// then position, exactly like Hugging Face's BPE Word::merge_all.
type candidate struct {
	rank, pos, newID int32
}

// candidateHeap is a binary min-heap of candidates (no container/heap, to
// avoid boxing every element in an interface).
type candidateHeap []candidate

func (c candidate) less(o candidate) bool {
	if c.rank != o.rank {
		return c.rank < o.rank
	}
	return c.pos < o.pos
}

func (h *candidateHeap) push(c candidate) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candidateHeap) pop() candidate {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].less(s[l]) {
			m = r
		}
		if !s[m].less(s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

func (h candidateHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		j := i
		for {
			l := 2*j + 1
			if l >= len(h) {
				break
			}
			m := l
			if r := l + 1; r < len(h) && h[r].less(h[l]) {
				m = r
			}
			if !h[m].less(h[j]) {
				break
			}
			h[j], h[m] = h[m], h[j]
			j = m
		}
	}
}

type bpeScratch struct {
	syms []symbol
	heap candidateHeap
}

// bpeWord appends to dst the (id, start) pairs of the BPE tokens of word (a
// pre-token's raw bytes), start being the token's byte offset in word.
// Bytes with no vocabulary entry are dropped, as Hugging Face does without
// an unknown token.
func (t *Tokenizer) bpeWord(word string, dst []int32) []int32 {
	if t.ignoreMerges {
		w := word
		if !t.charLevel {
			w = bytesToSymbols([]byte(word))
		}
		if id, ok := t.vocab[w]; ok {
			return append(dst, int32(id), 0)
		}
	}
	sc := t.pool.Get().(*bpeScratch)
	syms := sc.syms[:0]
	if t.charLevel {
		syms = t.charSymbols(word, syms)
	} else {
		for i := 0; i < len(word); i++ {
			id := t.byteID[word[i]]
			if id < 0 {
				continue
			}
			n := int32(len(syms))
			syms = append(syms, symbol{id: id, start: int32(i), prev: n - 1, next: n + 1})
		}
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	h := sc.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := t.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = append(h, candidate{rank: m.rank, pos: int32(i), newID: m.id})
		}
	}
	h.init()
	for len(h) > 0 {
		top := h.pop()
		cur := &syms[top.pos]
		if cur.dead || cur.next < 0 {
			continue
		}
		right := &syms[cur.next]
		// Skip stale entries: the pair at pos must still merge into newID.
		if m, ok := t.merges[pairKey(cur.id, right.id)]; !ok || m.id != top.newID {
			continue
		}
		cur.id = top.newID
		right.dead = true
		cur.next = right.next
		if cur.next >= 0 {
			syms[cur.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if m, ok := t.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				h.push(candidate{rank: m.rank, pos: cur.prev, newID: m.id})
			}
		}
		if cur.next >= 0 {
			if m, ok := t.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				h.push(candidate{rank: m.rank, pos: top.pos, newID: m.id})
			}
		}
	}
	for i := range syms {
		if !syms[i].dead {
			dst = append(dst, syms[i].id, syms[i].start)
		}
	}
	sc.syms, sc.heap = syms, h
	t.pool.Put(sc)
	return dst
}

const (
	cacheShards      = 16
	cacheShardMax    = 4096 // entries per shard
	cacheMaxWordSize = 128  // longer words are not cached
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
}

// wordTokens appends the (id, start) pairs of word's BPE tokens to dst,
// going through the cache.
func (t *Tokenizer) wordTokens(word string, dst []int32) []int32 {
	if len(word) > cacheMaxWordSize {
		return t.bpeWord(word, dst)
	}
	if len(word) == 1 && !t.ignoreMerges && !t.charLevel {
		if id := t.byteID[word[0]]; id >= 0 {
			return append(dst, id, 0)
		}
		return dst
	}
	sh := &t.cache[maphash.String(t.seed, word)%cacheShards]
	sh.mu.RLock()
	v, ok := sh.m[word]
	sh.mu.RUnlock()
	if ok {
		return append(dst, v...)
	}
	n := len(dst)
	dst = t.bpeWord(word, dst)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[string][]int32)
	}
	if len(sh.m) < cacheShardMax {
		// Clone the key: word may point into a caller's larger string.
		sh.m[string([]byte(word))] = append([]int32(nil), dst[n:]...)
	}
	sh.mu.Unlock()
	return dst
}
