package bpe

import (
	"encoding/json"
	"fmt"
)

// tokenizerConfig is the part of transformers' tokenizer_config.json that
// is read.
type tokenizerConfig struct {
	AddBOS *bool           `json:"add_bos_token"`
	AddEOS *bool           `json:"add_eos_token"`
	BOS    json.RawMessage `json:"bos_token"`
	EOS    json.RawMessage `json:"eos_token"`
}

// specialContent decodes a bos_token/eos_token value: a string, an
// {"content": ...} object or null. present is false when the key is absent;
// content is "" for null.
func specialContent(raw json.RawMessage, field string) (content string, present bool, err error) {
	if len(raw) == 0 {
		return "", false, nil
	}
	if string(raw) == "null" {
		return "", true, nil
	}
	if err := json.Unmarshal(raw, &content); err == nil {
		return content, true, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil {
		return "", false, fmt.Errorf("tokenizer_config.json %s: want a string, null or an object with \"content\", got %s", field, compact(raw))
	}
	return *obj.Content, true, nil
}

// setSpecials sets the template tokens Encode adds and BOS/EOS, from the
// post-processor and tokenizer_config.json (config, nil when absent).
//
// The template is the post-processor's (TemplateProcessing's single
// template, or RobertaProcessing's and BertProcessing's cls $A sep). When
// tokenizer_config.json says add_bos_token or add_eos_token, the template
// is instead [bos_token if add_bos_token] $A [eos_token if add_eos_token],
// as transformers' LlamaTokenizerFast and GemmaTokenizerFast rebuild it.
func (t *Tokenizer) setSpecials(post *component, config []byte) error {
	for _, c := range post.flatten() {
		switch c.Type {
		case "ByteLevel":
		case "TemplateProcessing":
			seen := false
			for i, it := range c.Single {
				switch {
				case it.Sequence != nil:
					if it.Sequence.ID != "A" || seen {
						return fmt.Errorf("post_processor TemplateProcessing single[%d]: sequence %q is not supported (want one $A)", i, it.Sequence.ID)
					}
					seen = true
				case it.SpecialToken != nil:
					st, ok := c.SpecialTokens[it.SpecialToken.ID]
					if !ok {
						return fmt.Errorf("post_processor TemplateProcessing single[%d]: special token %q not in special_tokens", i, it.SpecialToken.ID)
					}
					if seen {
						t.suffix = append(t.suffix, st.IDs...)
					} else {
						t.prefix = append(t.prefix, st.IDs...)
					}
				default:
					return fmt.Errorf("post_processor TemplateProcessing single[%d]: want SpecialToken or Sequence", i)
				}
			}
		case "RobertaProcessing", "BertProcessing":
			cls, err := processorToken(c.Cls, c.Type, "cls")
			if err != nil {
				return err
			}
			sep, err := processorToken(c.Sep, c.Type, "sep")
			if err != nil {
				return err
			}
			t.prefix, t.suffix = append(t.prefix, cls), append(t.suffix, sep)
		default:
			return fmt.Errorf("post_processor %s (type %q) is not supported; supported: %s", c.Type, c.Type, supportedPostProcessors)
		}
	}
	for _, id := range append(append([]int(nil), t.prefix...), t.suffix...) {
		if id < 0 || id >= len(t.tokBytes) || t.tokBytes[id] == nil {
			return fmt.Errorf("post_processor: special token id %d is not in the vocabulary (valid range [0, %d))", id, len(t.tokBytes))
		}
	}
	if len(t.prefix) > 0 {
		t.bos = t.prefix[0]
	}
	if len(t.suffix) > 0 {
		t.eos = t.suffix[len(t.suffix)-1]
	}
	if config == nil {
		return nil
	}
	var cfg tokenizerConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return fmt.Errorf("tokenizer_config.json: %w", err)
	}
	bos, err := t.configToken(cfg.BOS, "bos_token", t.bos)
	if err != nil {
		return err
	}
	eos, err := t.configToken(cfg.EOS, "eos_token", t.eos)
	if err != nil {
		return err
	}
	t.bos, t.eos = bos, eos
	if cfg.AddBOS == nil && cfg.AddEOS == nil {
		return nil
	}
	t.prefix, t.suffix = nil, nil
	if cfg.AddBOS != nil && *cfg.AddBOS {
		if bos < 0 {
			return fmt.Errorf("tokenizer_config.json: add_bos_token is true but bos_token %s is null or not in the vocabulary", compact(cfg.BOS))
		}
		t.prefix = []int{bos}
	}
	if cfg.AddEOS != nil && *cfg.AddEOS {
		if eos < 0 {
			return fmt.Errorf("tokenizer_config.json: add_eos_token is true but eos_token %s is null or not in the vocabulary", compact(cfg.EOS))
		}
		t.suffix = []int{eos}
	}
	return nil
}

// configToken returns the id of the token tokenizer_config.json's field
// names: def when the field is absent, -1 when it is null or not in the
// vocabulary.
func (t *Tokenizer) configToken(raw json.RawMessage, field string, def int) (int, error) {
	content, present, err := specialContent(raw, field)
	if err != nil || !present {
		return def, err
	}
	if id, ok := t.vocab[content]; ok && content != "" {
		return id, nil
	}
	return -1, nil
}

// processorToken decodes a RobertaProcessing/BertProcessing ["<s>", 0] pair
// and returns the id.
func processorToken(raw []json.RawMessage, typ, field string) (int, error) {
	var id int
	if len(raw) != 2 || json.Unmarshal(raw[1], &id) != nil {
		return 0, fmt.Errorf("post_processor %s %s: want [token, id]", typ, field)
	}
	return id, nil
}
