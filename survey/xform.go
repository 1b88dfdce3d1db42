package survey

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// XForm returns the questionnaire of this catalogue version as an ODK XForm
// (XML), the form definition ODK Central and ODK Collect load: the
// catalogue's XLSForm converted as pyxform converts it.
func (c *Catalogue) XForm() ([]byte, error) {
	f, err := c.XLSForm()
	if err != nil {
		return nil, err
	}
	return f.XForm()
}

// XForm converts XLSForm sheets into an ODK XForm, as pyxform does for the
// part of XLSForm that papi's form uses: groups (and table-list groups of
// selects), select_one, select_multiple, integer, decimal, text, calculate
// and today, with labels, hints, required, relevant, constraint and their
// messages in every language of the label columns. Choice lists become
// secondary instances with itext labels; ${name} references become absolute
// paths. Anything outside that subset is an error rather than a form that
// quietly differs from its workbook.
func (f XLSForm) XForm() ([]byte, error) {
	x, err := parseXLSForm(f)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	x.write(&buf)
	return buf.Bytes(), nil
}

// formNode is one survey row placed in the form tree.
type formNode struct {
	row      int // spreadsheet row (the header is row 1)
	kind     string
	list     string // choice list of a select
	name     string
	path     string
	label    map[string]string
	hint     map[string]string
	reqMsg   map[string]string
	consMsg  map[string]string
	required bool
	relevant string
	constr   string
	appear   string
	calc     string
	children []*formNode
	parent   *formNode
	// tableHeader marks the two rows pyxform generates at the top of a
	// table-list group: the group's label as a note, and a select whose
	// only job is to show the options once as column headings.
	tableHeader string
}

type choice struct {
	name  string
	label map[string]string
}

type xform struct {
	title, id, version string
	langs              []string // default language first
	root               *formNode
	lists              map[string][]choice
	listOrder          []string
	paths              map[string]string // field name → absolute path
}

// XLSForm question types this converter knows, with their XForm bind types.
var xformTypes = map[string]string{
	"select_one": "string", "select_multiple": "string", "integer": "int", "decimal": "decimal",
	"text": "string", "calculate": "string", "today": "date", "note": "string",
}

func parseXLSForm(f XLSForm) (*xform, error) {
	x := &xform{lists: map[string][]choice{}, paths: map[string]string{}}
	if len(f.Settings.Rows) != 1 {
		return nil, fmt.Errorf("settings: want one row, got %d", len(f.Settings.Rows))
	}
	x.title, x.id, x.version = f.Settings.Cell(0, "form_title"), f.Settings.Cell(0, "form_id"), f.Settings.Cell(0, "version")
	if x.id == "" || x.version == "" || x.title == "" {
		return nil, fmt.Errorf("settings: form_title, form_id and version are required")
	}
	def := f.Settings.Cell(0, "default_language")
	for _, col := range f.Survey.Columns {
		if lang, ok := strings.CutPrefix(col, "label::"); ok {
			if lang == def {
				x.langs = append([]string{lang}, x.langs...)
			} else {
				x.langs = append(x.langs, lang)
			}
		}
	}
	if len(x.langs) == 0 || x.langs[0] != def {
		return nil, fmt.Errorf("settings: default_language %q has no label::%s column", def, def)
	}
	texts := func(s Sheet, row int, prefix string) map[string]string {
		m := map[string]string{}
		for _, l := range x.langs {
			if v := strings.TrimSpace(s.Cell(row, prefix+"::"+l)); v != "" {
				m[l] = v
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}

	for i := range f.Choices.Rows {
		list, name := f.Choices.Cell(i, "list_name"), f.Choices.Cell(i, "name")
		if list == "" || name == "" {
			return nil, fmt.Errorf("choices row %d: list_name and name are required", i+2)
		}
		if _, ok := x.lists[list]; !ok {
			x.listOrder = append(x.listOrder, list)
		}
		x.lists[list] = append(x.lists[list], choice{name: name, label: texts(f.Choices, i, "label")})
	}

	x.root = &formNode{kind: "group", name: "data", path: "/data"}
	cur := x.root
	for i := range f.Survey.Rows {
		n := &formNode{row: i + 2, name: f.Survey.Cell(i, "name"), label: texts(f.Survey, i, "label"), hint: texts(f.Survey, i, "hint"),
			reqMsg: texts(f.Survey, i, "required_message"), consMsg: texts(f.Survey, i, "constraint_message"),
			required: f.Survey.Cell(i, "required") == "yes", relevant: f.Survey.Cell(i, "relevant"),
			constr: f.Survey.Cell(i, "constraint"), appear: f.Survey.Cell(i, "appearance"), calc: f.Survey.Cell(i, "calculation")}
		typ := strings.Fields(f.Survey.Cell(i, "type"))
		if len(typ) == 0 {
			return nil, fmt.Errorf("survey row %d: no type", n.row)
		}
		n.kind = typ[0]
		switch {
		case n.kind == "end_group":
			if cur == x.root {
				return nil, fmt.Errorf("survey row %d: end_group without begin_group", n.row)
			}
			cur = cur.parent
			continue
		case n.kind == "begin_group":
			n.kind = "group"
		case n.kind == "select_one" || n.kind == "select_multiple":
			if len(typ) != 2 {
				return nil, fmt.Errorf("survey row %d: %s needs a list name", n.row, n.kind)
			}
			if _, ok := x.lists[typ[1]]; !ok {
				return nil, fmt.Errorf("survey row %d: choice list %q does not exist", n.row, typ[1])
			}
			n.list = typ[1]
		case xformTypes[n.kind] == "":
			return nil, fmt.Errorf("survey row %d: type %q is not supported by this converter", n.row, n.kind)
		}
		if !isXMLName(n.name) {
			return nil, fmt.Errorf("survey row %d: name %q is not a valid XML name", n.row, n.name)
		}
		if _, dup := x.paths[n.name]; dup {
			return nil, fmt.Errorf("survey row %d: name %q is used twice", n.row, n.name)
		}
		n.parent, n.path = cur, cur.path+"/"+n.name
		x.paths[n.name] = n.path
		if cur.appear == "table-list" && len(cur.children) == 0 {
			if err := x.tableHeader(cur, n); err != nil {
				return nil, err
			}
		}
		if cur.appear == "table-list" {
			if n.kind != "select_one" && n.kind != "select_multiple" || n.list != cur.children[1].list {
				return nil, fmt.Errorf("survey row %d: a table-list group holds selects of one choice list", n.row)
			}
			n.appear = "list-nolabel"
		}
		cur.children = append(cur.children, n)
		if n.kind == "group" {
			cur = n
		}
	}
	if cur != x.root {
		return nil, fmt.Errorf("survey: group %q is not closed", cur.name)
	}
	meta := &formNode{kind: "group", name: "meta", path: "/data/meta", parent: x.root}
	meta.children = []*formNode{{kind: "instanceID", name: "instanceID", path: "/data/meta/instanceID", parent: meta}}
	x.root.children = append(x.root.children, meta)

	// Resolve ${name} references once every path is known (a relevant may
	// only look back, which the XLSForm checks; the XForm needs paths).
	var err error
	walk(x.root, func(n *formNode) {
		for _, e := range []*string{&n.relevant, &n.constr, &n.calc} {
			if err == nil {
				*e, err = x.resolve(*e, n.row)
			}
		}
	})
	return x, err
}

// tableHeader adds the two rows pyxform puts at the top of a table-list
// group: a note carrying the group's label, and a label-only select that
// shows the shared options once as column headings.
func (x *xform) tableHeader(g, first *formNode) error {
	if first.list == "" {
		return fmt.Errorf("survey row %d: a table-list group holds selects", first.row)
	}
	note := &formNode{row: g.row, kind: "note", name: "generated_table_list_label_" + strconv.Itoa(g.row), label: g.label, parent: g, tableHeader: "note"}
	head := &formNode{row: g.row + 1, kind: "select_one", list: first.list, name: "reserved_name_for_field_list_labels_" + strconv.Itoa(g.row+1), parent: g, tableHeader: "select", appear: "label"}
	for _, n := range []*formNode{note, head} {
		if _, dup := x.paths[n.name]; dup {
			return fmt.Errorf("survey row %d: name %q is used twice", n.row, n.name)
		}
		n.path = g.path + "/" + n.name
		x.paths[n.name] = n.path
	}
	g.children = append(g.children, note, head)
	return nil
}

var refPattern = regexp.MustCompile(`\$\{([^}]*)\}`)

func (x *xform) resolve(expr string, row int) (string, error) {
	var err error
	out := refPattern.ReplaceAllStringFunc(expr, func(m string) string {
		name := m[2 : len(m)-1]
		p, ok := x.paths[name]
		if !ok && err == nil {
			err = fmt.Errorf("survey row %d: ${%s} refers to no field", row, name)
		}
		return p
	})
	return out, err
}

func walk(n *formNode, fn func(*formNode)) {
	fn(n)
	for _, c := range n.children {
		walk(c, fn)
	}
}

// el is an XML element being written.
type el struct {
	name     string
	attrs    [][2]string
	text     string
	children []*el
}

func (e *el) add(c *el) *el { e.children = append(e.children, c); return c }

func (e *el) attr(k, v string) *el {
	if v != "" {
		e.attrs = append(e.attrs, [2]string{k, v})
	}
	return e
}

func newEl(name string, attrs ...string) *el {
	e := &el{name: name}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.attr(attrs[i], attrs[i+1])
	}
	return e
}

func (e *el) encode(buf *bytes.Buffer, depth int) {
	indent := strings.Repeat("  ", depth)
	buf.WriteString(indent + "<" + e.name)
	for _, a := range e.attrs {
		buf.WriteString(" " + a[0] + `="` + attrEscaper.Replace(a[1]) + `"`)
	}
	switch {
	case len(e.children) > 0:
		buf.WriteString(">\n")
		for _, c := range e.children {
			c.encode(buf, depth+1)
		}
		buf.WriteString(indent + "</" + e.name + ">\n")
	case e.text != "":
		buf.WriteString(">" + textEscaper.Replace(e.text) + "</" + e.name + ">\n")
	default:
		buf.WriteString("/>\n")
	}
}

// XPath in attributes keeps its apostrophes readable, as pyxform writes it:
// only the characters XML requires are escaped.
var (
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#10;", "\t", "&#9;", "\r", "&#13;")
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
)

// itext collects the translations: one entry per (text id, language).
type itext struct {
	ids   []string
	texts map[string]map[string]string
}

func (t *itext) add(id string, byLang map[string]string) string {
	if len(byLang) == 0 {
		return ""
	}
	if t.texts == nil {
		t.texts = map[string]map[string]string{}
	}
	if _, ok := t.texts[id]; !ok {
		t.ids = append(t.ids, id)
	}
	t.texts[id] = byLang
	return "jr:itext('" + id + "')"
}

func (x *xform) write(buf *bytes.Buffer) {
	var tr itext
	html := newEl("h:html", "xmlns", "http://www.w3.org/2002/xforms", "xmlns:ev", "http://www.w3.org/2001/xml-events",
		"xmlns:h", "http://www.w3.org/1999/xhtml", "xmlns:jr", "http://openrosa.org/javarosa",
		"xmlns:odk", "http://www.opendatakit.org/xforms", "xmlns:orx", "http://openrosa.org/xforms",
		"xmlns:xsd", "http://www.w3.org/2001/XMLSchema")
	head := html.add(newEl("h:head"))
	head.add(&el{name: "h:title", text: x.title})
	model := head.add(newEl("model", "odk:xforms-version", "1.0.0"))
	itextEl := model.add(newEl("itext"))

	data := newEl("data", "id", x.id, "version", x.version)
	model.add(newEl("instance")).add(data)
	x.instance(data, x.root)
	for _, name := range x.listOrder {
		root := model.add(newEl("instance", "id", name)).add(newEl("root"))
		for i, c := range x.lists[name] {
			item := root.add(newEl("item"))
			item.add(&el{name: "name", text: c.name})
			id := name + "-" + strconv.Itoa(i)
			tr.add(id, c.label)
			item.add(&el{name: "itextId", text: id})
		}
	}
	var binds []*el
	body := newEl("h:body")
	for _, n := range x.root.children {
		x.control(body, n, &tr, &binds)
	}
	for _, b := range binds {
		model.add(b)
	}
	html.add(body)

	for i, lang := range x.langs {
		t := itextEl.add(newEl("translation", "lang", lang))
		if i == 0 {
			t.attrs = append([][2]string{{"default", "true()"}}, t.attrs...)
		}
		for _, id := range tr.ids {
			v := tr.texts[id][lang]
			if v == "" {
				v = tr.texts[id][x.langs[0]] // a text missing in one language shows the default's
			}
			t.add(newEl("text", "id", id)).add(&el{name: "value", text: v})
		}
	}

	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	html.encode(buf, 0)
}

// instance writes the primary instance's nodes under parent.
func (x *xform) instance(parent *el, n *formNode) {
	for _, c := range n.children {
		e := parent.add(newEl(c.name))
		if c.kind == "group" {
			x.instance(e, c)
		}
	}
}

// control writes a node's bind and its body control (if it has one).
func (x *xform) control(parent *el, n *formNode, tr *itext, binds *[]*el) {
	bind := newEl("bind", "nodeset", n.path)
	switch n.kind {
	case "group":
		bind.attr("relevant", n.relevant)
		if n.relevant != "" {
			*binds = append(*binds, bind)
		}
		g := parent.add(newEl("group", "ref", n.path))
		if n.appear == "table-list" {
			// pyxform shows a table-list as a field list whose label is
			// the generated note at its top.
			g.attr("appearance", "field-list")
		} else {
			g.attr("appearance", n.appear)
			if ref := tr.add(n.path+":label", n.label); ref != "" {
				g.add(newEl("label", "ref", ref))
			}
		}
		for _, c := range n.children {
			x.control(g, c, tr, binds)
		}
		return
	case "instanceID":
		*binds = append(*binds, bind.attr("type", "string").attr("readonly", "true()").attr("jr:preload", "uid"))
		return
	case "today":
		*binds = append(*binds, bind.attr("type", "date").attr("jr:preload", "date").attr("jr:preloadParams", "today"))
		return
	case "calculate":
		*binds = append(*binds, bind.attr("type", "string").attr("calculate", n.calc))
		return
	}
	bind.attr("type", xformTypes[n.kind])
	if n.kind == "note" {
		bind.attr("readonly", "true()")
	}
	bind.attr("relevant", n.relevant)
	if n.required {
		bind.attr("required", "true()")
		bind.attr("jr:requiredMsg", tr.add(n.path+":jr:requiredMsg", n.reqMsg))
	}
	if n.constr != "" {
		bind.attr("constraint", n.constr)
		bind.attr("jr:constraintMsg", tr.add(n.path+":jr:constraintMsg", n.consMsg))
	}
	*binds = append(*binds, bind)

	tag := map[string]string{"select_one": "select1", "select_multiple": "select"}[n.kind]
	if tag == "" {
		tag = "input"
	}
	c := parent.add(newEl(tag, "ref", n.path, "appearance", n.appear))
	if n.tableHeader == "select" {
		c.add(&el{name: "label", text: " "})
	} else if ref := tr.add(n.path+":label", n.label); ref != "" {
		c.add(newEl("label", "ref", ref))
	}
	if ref := tr.add(n.path+":hint", n.hint); ref != "" {
		c.add(newEl("hint", "ref", ref))
	}
	if n.list != "" {
		is := c.add(newEl("itemset", "nodeset", "instance('"+n.list+"')/root/item"))
		is.add(newEl("value", "ref", "name"))
		is.add(newEl("label", "ref", "jr:itext(itextId)"))
	}
}
