package plots

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// node is a parsed XML element, enough to query the renderers' output.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	text     string // the character data directly inside
}

// parseXML parses s strictly (well-formedness, known entities only) and
// returns its root element. The package's HTML is written to be well-formed
// XML too, so this checks HTML more strictly than an HTML5 parser would.
func parseXML(s string) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	root := &node{name: "#document"}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attr: map[string]string{}}
			for _, a := range t.Attr {
				key := a.Name.Local
				if a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace" {
					key = "xml:" + key
				}
				n.attr[key] = a.Value
			}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text += string(t)
		}
	}
	if len(stack) != 1 {
		return nil, errors.New("unclosed elements")
	}
	elems := append([]*node(nil), root.children...)
	if len(elems) != 1 {
		return nil, errors.New("want exactly one root element")
	}
	return elems[0], nil
}

func mustParse(t *testing.T, what, s string) *node {
	t.Helper()
	n, err := parseXML(s)
	if err != nil {
		t.Fatalf("%s is not well-formed: %v\n%s", what, err, head(s, 600))
	}
	return n
}

func head(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// all returns the elements under n (n included) named name.
func (n *node) all(name string) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		if m.name == name {
			out = append(out, m)
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

// child returns n's first child named name.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// texts returns the character data of every element under n.
func (n *node) texts() []string {
	var out []string
	var walk func(*node)
	walk = func(m *node) {
		if s := strings.TrimSpace(m.text); s != "" || m.text != "" {
			out = append(out, m.text)
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

// hasText reports whether some element under n holds exactly s.
func (n *node) hasText(s string) bool {
	for _, t := range n.texts() {
		if t == s {
			return true
		}
	}
	return false
}

// tips returns the texts of the <title> children of the elements named
// name, keyed by nothing: in document order.
func (n *node) tips(name string) []string {
	var out []string
	for _, e := range n.all(name) {
		if c := e.child("title"); c != nil {
			out = append(out, c.text)
		}
	}
	return out
}
