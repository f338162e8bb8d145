package retrain

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/govene/govene/bpe"
	"github.com/govene/govene/shipped/facts"
)

// EndOfText ends every corpus sentence; GPT-2's tokenizer maps it to id 50256.
const EndOfText = "<|endoftext|>"

// Kind is the family a corpus sentence belongs to.
type Kind int

// The sentence families of the corpus, one per tutorial need.
const (
	Facts  Kind = iota // landmark and country facts (patching, causal tracing, DAS)
	IOI                // IOI-style name sentences (name-swap tutorials)
	Happy              // happy sentences (steering)
	Sad                // sad sentences (steering)
	Filler             // simple everyday sentences
)

// String names the kind.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// kindNames are the kinds' names, indexed by Kind.
var kindNames = [...]string{Facts: "facts", IOI: "ioi", Happy: "happy", Sad: "sad", Filler: "filler"}

// Sentence is one corpus sentence; Text ends with EndOfText.
type Sentence struct {
	Kind Kind
	Text string
	// SubjectFrom and SubjectTo are the byte offsets in Text of a landmark
	// fact's subject, the landmark's name without a leading "The "/"the "
	// ("Eiffel Tower"); both are 0 in the other sentences.
	SubjectFrom, SubjectTo int
}

// mid returns the landmark's name inside a sentence ("the Eiffel Tower").
func mid(f facts.LandmarkFact) string {
	if rest, ok := strings.CutPrefix(f.Name, "The "); ok {
		return "the " + rest
	}
	return f.Name
}

// cityCountry maps the landmark cities that are not capitals to a country.
var cityCountry = map[string]string{
	"Seattle": "America", "Chicago": "America", "Boston": "America",
	"Barcelona": "Spain", "Venice": "Italy", "Florence": "Italy",
	"Toronto": "Canada", "Dubai": "Arabia", "Istanbul": "Turkey",
	"Prague": "Czechia", "Kyoto": "Japan", "Mumbai": "India", "Rio": "Brazil",
	"Singapore": "Singapore",
}

// landmarkTemplates place a landmark (%[1]s at a sentence start, %[2]s
// inside one) and its city (%[3]s).
var landmarkTemplates = []string{
	"%[1]s is in the city of %[3]s",
	"%[1]s is in downtown %[3]s",
	"%[1]s is located in %[3]s",
	"%[1]s is a famous landmark in %[3]s",
	"You can visit %[2]s in %[3]s",
	"Tourists travel to see %[2]s in %[3]s",
}

var (
	places  = []string{"store", "park", "school", "beach", "office", "market", "library", "restaurant", "museum", "garden"}
	objects = []string{"drink", "book", "gift", "ball", "letter", "flower", "ticket", "key", "cake", "pen"}
	// IOI templates: %[1]s and %[2]s are the two names (in order of
	// mention), %[3]s the place, %[4]s the subject (repeated name), %[5]s the
	// object and %[6]s the indirect object (the answer).
	ioiTemplates = []string{
		"%[1]s and %[2]s went to the %[3]s. %[4]s gave a %[5]s to %[6]s",
		"When %[1]s and %[2]s went to the %[3]s, %[4]s gave a %[5]s to %[6]s",
		"%[1]s and %[2]s were at the %[3]s. %[4]s handed a %[5]s to %[6]s",
		"After %[1]s and %[2]s arrived at the %[3]s, %[4]s gave the %[5]s to %[6]s",
		"%[1]s and %[2]s went to the %[3]s. %[4]s passed the %[5]s to %[6]s",
	}
)

// The other words of the sentiment sentences, by mood (the mood adjectives
// are facts.HappyWords and facts.SadWords).
var (
	happyDay   = []string{"beautiful", "lovely", "bright", "sunny", "perfect"}
	sadDay     = []string{"dark", "rainy", "cold", "grey", "long"}
	happyVerb  = []string{"smiled", "laughed", "danced", "sang"}
	sadVerb    = []string{"cried", "sighed", "wept", "frowned"}
	happyThing = []string{"my friends", "the sunshine", "good news", "my family", "music"}
	sadThing   = []string{"the rain", "bad news", "the silence", "my loss", "the storm"}
)

// moodTemplates take two mood words (%[1]s, %[2]s), a day adjective (%[3]s),
// a verb (%[4]s) and a thing (%[5]s), all of one polarity.
var moodTemplates = []string{
	"I am so %[1]s and %[2]s today",
	"I feel %[1]s and %[2]s",
	"Today I feel %[1]s and %[2]s",
	"Today I feel so %[1]s",
	"Today I feel %[1]s",
	"I am %[1]s. Today I feel %[2]s",
	"I feel %[1]s. Today I feel %[2]s and %[1]s",
	"This morning I was %[1]s and %[2]s",
	"She is %[1]s and %[2]s today",
	"We are %[1]s because the day is %[3]s",
	"What a %[3]s day, I feel %[1]s",
	"It is a %[3]s day and I am %[1]s",
	"I %[4]s all day because I feel %[1]s",
	"I %[4]s because I was so %[1]s",
	"The news made me %[1]s and %[2]s",
	"%[5]s made me feel %[1]s",
	"Everyone says I look %[1]s and %[2]s",
	"He was %[1]s, and I was %[2]s too",
	"My heart feels %[1]s and %[2]s",
	"Life is %[3]s and I am %[1]s",
}

var (
	fillerSubjects = []string{"The cat", "The dog", "My brother", "The teacher", "A bird", "The children", "My neighbor", "The farmer", "A student", "The old man"}
	fillerVerbs    = []string{"walked to", "looked at", "played near", "sat on", "ran past", "waited by", "painted", "cleaned"}
	fillerObjects  = []string{"the house", "the tree", "the car", "the river", "the table", "the window", "the door", "the bridge", "the fence", "the hill"}
	fillerFacts    = []string{
		"The sky is blue", "The grass is green", "Water is wet", "Birds can fly",
		"Fish live in water", "Snow is cold", "Fire is hot", "The sun rises in the morning",
		"One plus one is two", "A week has seven days", "The moon shines at night",
		"Dogs like to run", "Trees grow tall", "Bread is made from flour",
	}
)

// Generate returns n corpus sentences drawn deterministically from seed: about
// 25% landmark and country facts, 40% name sentences, 12% happy and 13% sad
// sentences, and 10% filler. Each text ends with EndOfText.
func Generate(seed uint64, n int) []Sentence {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_c0de))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	out := make([]Sentence, 0, n)
	for range n {
		var s Sentence
		switch r := rng.IntN(100); {
		case r < 25:
			text, subject := factSentence(rng, pick)
			s = Sentence{Kind: Facts, Text: text}
			if subject != "" {
				s.SubjectFrom = strings.Index(text, subject)
				s.SubjectTo = s.SubjectFrom + len(subject)
			}
		case r < 65:
			s = Sentence{Kind: IOI, Text: ioiSentence(rng, pick)}
		case r < 77:
			s = Sentence{Kind: Happy, Text: moodSentence(rng, facts.HappyWords, happyDay, happyVerb, happyThing)}
		case r < 90:
			s = Sentence{Kind: Sad, Text: moodSentence(rng, facts.SadWords, sadDay, sadVerb, sadThing)}
		default:
			s = Sentence{Kind: Filler, Text: fillerSentence(rng, pick)}
		}
		s.Text += EndOfText
		out = append(out, s)
	}
	return out
}

// factSentence returns a fact sentence and, for a landmark fact, its
// subject (the landmark's name without "The "; "" for the other facts).
func factSentence(rng *rand.Rand, pick func([]string) string) (string, string) {
	if rng.IntN(3) > 0 { // two thirds landmarks
		f := facts.Landmarks[rng.IntN(len(facts.Landmarks))]
		return fmt.Sprintf(pick(landmarkTemplates), f.Name, mid(f), f.City), strings.TrimPrefix(f.Name, "The ")
	}
	s := countryFact(rng)
	return s, ""
}

func countryFact(rng *rand.Rand) string {
	c := facts.Countries[rng.IntN(len(facts.Countries))]
	switch rng.IntN(7) {
	case 0, 1:
		return fmt.Sprintf("The capital of %s is %s", c.Country, c.Capital)
	case 2:
		return fmt.Sprintf("The capital city of %s is %s", c.Country, c.Capital)
	case 3:
		return fmt.Sprintf("%s is the capital of %s", c.Capital, c.Country)
	case 4, 5:
		if c.Language != "" {
			if rng.IntN(2) == 0 {
				return fmt.Sprintf("The language of %s is %s", c.Country, c.Language)
			}
			return fmt.Sprintf("People in %s speak %s", c.Country, c.Language)
		}
		return fmt.Sprintf("The capital of %s is %s", c.Country, c.Capital)
	default:
		// A landmark city and its country.
		f := facts.Landmarks[rng.IntN(len(facts.Landmarks))]
		country, ok := cityCountry[f.City]
		if !ok {
			for _, c := range facts.Countries {
				if c.Capital == f.City {
					country = c.Country
				}
			}
		}
		return fmt.Sprintf("%s is a city in %s", f.City, country)
	}
}

func ioiSentence(rng *rand.Rand, pick func([]string) string) string {
	i := rng.IntN(len(facts.Names))
	j := rng.IntN(len(facts.Names) - 1)
	if j >= i {
		j++
	}
	a, b := facts.Names[i], facts.Names[j]
	subj, io := a, b
	if rng.IntN(2) == 0 {
		subj, io = b, a
	}
	return fmt.Sprintf(pick(ioiTemplates), a, b, pick(places), subj, pick(objects), io)
}

func moodSentence(rng *rand.Rand, words, days, verbs, things []string) string {
	w1 := words[rng.IntN(len(words))]
	w2 := words[rng.IntN(len(words)-1)]
	if w2 == w1 {
		w2 = words[len(words)-1]
	}
	t := moodTemplates[rng.IntN(len(moodTemplates))]
	thing := things[rng.IntN(len(things))]
	if strings.HasPrefix(t, "%[5]s") {
		thing = strings.ToUpper(thing[:1]) + thing[1:]
	}
	return fmt.Sprintf(t, w1, w2, days[rng.IntN(len(days))], verbs[rng.IntN(len(verbs))], thing)
}

func fillerSentence(rng *rand.Rand, pick func([]string) string) string {
	if rng.IntN(3) == 0 {
		return pick(fillerFacts)
	}
	return pick(fillerSubjects) + " " + pick(fillerVerbs) + " " + pick(fillerObjects)
}

// Tokenize encodes each sentence with GPT-2's tokenizer; each ends with the
// end-of-text id.
func Tokenize(sentences []Sentence) [][]int {
	out, _ := tokenizeSubjects(sentences)
	return out
}

// tokenizeSubjects encodes each sentence with GPT-2's tokenizer and returns,
// for each, the token span [from, to) of its subject ({0, 0} when it has
// none). The span's first token carries the subject's leading space.
func tokenizeSubjects(sentences []Sentence) ([][]int, [][2]int) {
	tok := bpe.GPT2()
	out := make([][]int, len(sentences))
	spans := make([][2]int, len(sentences))
	for i, s := range sentences {
		out[i] = tok.Encode(s.Text)
		if s.SubjectTo <= s.SubjectFrom {
			continue
		}
		from := s.SubjectFrom
		if from > 0 && s.Text[from-1] == ' ' {
			from-- // GPT-2's words start with their space
		}
		// GPT-2 splits words before merging, so a prefix that ends at a
		// word boundary encodes to a prefix of the sentence's tokens.
		spans[i] = [2]int{len(tok.Encode(s.Text[:from])), len(tok.Encode(s.Text[:s.SubjectTo]))}
	}
	return out, spans
}
