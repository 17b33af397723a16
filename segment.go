package regulars

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Segmentation is a partner's named set of conditions over followers: a
// follower belongs to it when every condition holds.
type Segmentation struct {
	ID        int64
	TenantID  int64
	PartnerID int64
	Name      string
	Rule      Rule
	CreatedAt time.Time
	UpdatedAt time.Time
	// Filled by list queries.
	EngagementCount int
}

// Condition types: every criterion of the seed.
const (
	CondEngagement    = "engagement"     // has / hasn't enabled engagement X
	CondChannel       = "channel"        // follows / doesn't follow channel X, optionally for at least / at most N days
	CondAge           = "age"            // age from A to B (known ages only)
	CondGender        = "gender"         // one or more genders (known only)
	CondLanguage      = "language"       // one or more languages (known only)
	CondCurrentPoints = "current_points" // current points in program P: less than / exactly / more than N
	CondTotalPoints   = "total_points"   // total points in program P: less than / exactly / more than N
	CondLevel         = "level"          // level A to B in a gamification or advanced program
	CondList          = "list"           // member of one or more custom end-user lists
)

// ConditionTypes lists the condition types in the order the editor offers them.
var ConditionTypes = []string{CondEngagement, CondChannel, CondAge, CondGender, CondLanguage, CondCurrentPoints, CondTotalPoints, CondLevel, CondList}

// ConditionLabel names a condition type for people.
func ConditionLabel(typ string) string {
	switch typ {
	case CondEngagement:
		return "Engagement"
	case CondChannel:
		return "Second channel"
	case CondAge:
		return "Age"
	case CondGender:
		return "Gender"
	case CondLanguage:
		return "Language"
	case CondCurrentPoints:
		return "Current points"
	case CondTotalPoints:
		return "Total points"
	case CondLevel:
		return "Level"
	case CondList:
		return "Custom end-user lists"
	}
	return typ
}

// Negatable reports whether a condition type has a "haven't" form: the seed
// names one for engagements (have/haven't enabled) and channels
// (followed/haven't followed).
func Negatable(typ string) bool { return typ == CondEngagement || typ == CondChannel }

// Comparisons of points conditions.
const (
	OpLess    = "lt"
	OpExactly = "eq"
	OpMore    = "gt"
)

// MaxConditions bounds a rule.
const MaxConditions = 20

// MaxAge is the oldest age a condition may name.
const MaxAge = 130

// Rule is the typed rule tree of a segmentation: its conditions, all of
// which must hold. It is stored as JSON and compiled to parameterised SQL;
// users never send SQL.
type Rule struct {
	Conditions []Condition `json:"conditions"`
}

// Condition is one criterion. Type says which members apply; the others
// must be absent (ParseRule refuses them).
type Condition struct {
	Type string `json:"type"`
	// Not turns "has enabled" into "hasn't enabled" and "follows" into
	// "doesn't follow" (engagement and channel conditions only).
	Not bool `json:"not,omitempty"`

	EngagementID int64 `json:"engagement_id,omitempty"` // engagement
	ChannelID    int64 `json:"channel_id,omitempty"`    // channel
	// MinDays and MaxDays bound how long the follower has followed the
	// channel (current follow period), in days of 24 hours.
	MinDays *int64 `json:"min_days,omitempty"`
	MaxDays *int64 `json:"max_days,omitempty"`

	MinAge *int `json:"min_age,omitempty"` // age
	MaxAge *int `json:"max_age,omitempty"`

	Genders   []string `json:"genders,omitempty"`   // gender
	Languages []string `json:"languages,omitempty"` // language

	ProgramID int64  `json:"program_id,omitempty"` // current_points, total_points, level
	Op        string `json:"op,omitempty"`         // lt, eq, gt
	Points    *int64 `json:"points,omitempty"`
	MinLevel  *int   `json:"min_level,omitempty"` // level positions, from 1
	MaxLevel  *int   `json:"max_level,omitempty"`

	ListIDs []int64 `json:"list_ids,omitempty"` // list
}

// conditionFields lists the JSON members each type accepts besides "type".
var conditionFields = map[string][]string{
	CondEngagement:    {"not", "engagement_id"},
	CondChannel:       {"not", "channel_id", "min_days", "max_days"},
	CondAge:           {"min_age", "max_age"},
	CondGender:        {"genders"},
	CondLanguage:      {"languages"},
	CondCurrentPoints: {"program_id", "op", "points"},
	CondTotalPoints:   {"program_id", "op", "points"},
	CondLevel:         {"program_id", "min_level", "max_level"},
	CondList:          {"list_ids"},
}

// ruleError is an invalid rule: one message per field key ("conditions"
// for the rule, "conditions.N" for the N-th condition, counting from 1);
// each message names the condition.
func ruleError(v Validation) error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The segmentation's conditions need correcting: " + firstMessage(v), Fields: map[string]string(v)}
}

func firstMessage(v Validation) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		na, nb := condNumber(a), condNumber(b)
		if na != nb {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	return v[keys[0]]
}

func condNumber(key string) int {
	rest, ok := strings.CutPrefix(key, "conditions.")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest)
	return n
}

// CondKey is the field key of the i-th condition (from 0) in errors.
func CondKey(i int) string { return "conditions." + strconv.Itoa(i+1) }

// condName names the i-th condition in messages: "Condition 2 (Age)".
func condName(i int, typ string) string {
	if typ == "" {
		return "Condition " + strconv.Itoa(i+1)
	}
	return fmt.Sprintf("Condition %d (%s)", i+1, ConditionLabel(typ))
}

// ParseRule decodes a rule from JSON, refusing unknown members, members
// that do not belong to a condition's type and wrong JSON types, with a
// message naming the condition. It then checks the rule's shape with
// Check. References (engagements, channels, programs, lists) are checked
// against the partner's objects by the app.
func ParseRule(data []byte) (Rule, error) {
	v := Validation{}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		v.Add("conditions", "The rule must be a JSON object with a \"conditions\" array.")
		return Rule{}, ruleError(v)
	}
	for k := range top {
		if k != "conditions" {
			v.Add("conditions", fmt.Sprintf("Unknown member %q: a rule has only \"conditions\".", k))
		}
	}
	var raws []json.RawMessage
	if raw, ok := top["conditions"]; !ok {
		v.Add("conditions", "The rule has no \"conditions\" array.")
	} else if err := json.Unmarshal(raw, &raws); err != nil || raws == nil {
		v.Add("conditions", "\"conditions\" must be an array of conditions.")
	}
	if len(v) > 0 {
		return Rule{}, ruleError(v)
	}
	var r Rule
	for i, raw := range raws {
		key := CondKey(i)
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil || members == nil {
			v.Add(key, condName(i, "")+" must be an object.")
			continue
		}
		var typ string
		if err := json.Unmarshal(members["type"], &typ); err != nil || members["type"] == nil {
			v.Add(key, condName(i, "")+": \"type\" must be one of "+strings.Join(ConditionTypes, ", ")+".")
			continue
		}
		allowed, ok := conditionFields[typ]
		if !ok {
			v.Add(key, fmt.Sprintf("%s: unknown type %q; use one of %s.", condName(i, ""), typ, strings.Join(ConditionTypes, ", ")))
			continue
		}
		var names []string
		for k := range members {
			names = append(names, k)
		}
		slices.Sort(names)
		bad := false
		for _, k := range names {
			if k != "type" && !slices.Contains(allowed, k) {
				if _, known := conditionMembers[k]; known {
					v.Add(key, fmt.Sprintf("%s: %q does not apply to this kind of condition.", condName(i, typ), k))
				} else {
					v.Add(key, fmt.Sprintf("%s: unknown member %q.", condName(i, typ), k))
				}
				bad = true
				break
			}
		}
		if bad {
			continue
		}
		var c Condition
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			var typeErr *json.UnmarshalTypeError
			if asTypeError(err, &typeErr) && typeErr.Field != "" {
				v.Add(key, fmt.Sprintf("%s: %q must be %s.", condName(i, typ), typeErr.Field, conditionMembers[typeErr.Field]))
			} else {
				v.Add(key, fmt.Sprintf("%s: %v.", condName(i, typ), err))
			}
			continue
		}
		r.Conditions = append(r.Conditions, c)
	}
	if len(v) > 0 {
		return Rule{}, ruleError(v)
	}
	return r, r.Check()
}

func asTypeError(err error, target **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = t
	}
	return ok
}

// conditionMembers describes the JSON type of every condition member.
var conditionMembers = map[string]string{
	"type": "a string", "not": "true or false", "engagement_id": "an integer id", "channel_id": "an integer id",
	"min_days": "a whole number of days", "max_days": "a whole number of days", "min_age": "a whole number of years", "max_age": "a whole number of years",
	"genders": "an array of strings", "languages": "an array of strings", "program_id": "an integer id", "op": "one of \"lt\", \"eq\", \"gt\"",
	"points": "a whole number", "min_level": "a level number", "max_level": "a level number", "list_ids": "an array of integer ids",
}

var languageRE = regexp.MustCompile(`^[a-z]{2}$`)

// Check validates the rule's shape: required members, ranges and
// duplicates. Errors are keyed by CondKey and name the condition.
func (r Rule) Check() error {
	v := Validation{}
	if len(r.Conditions) == 0 {
		v.Add("conditions", "Add at least one condition.")
	}
	if len(r.Conditions) > MaxConditions {
		v.Add("conditions", fmt.Sprintf("Use at most %d conditions.", MaxConditions))
	}
	for i, c := range r.Conditions {
		key, name := CondKey(i), condName(i, c.Type)
		fail := func(format string, args ...any) { v.Add(key, name+": "+fmt.Sprintf(format, args...)) }
		if _, ok := conditionFields[c.Type]; !ok {
			v.Add(key, fmt.Sprintf("%s: unknown type %q; use one of %s.", condName(i, ""), c.Type, strings.Join(ConditionTypes, ", ")))
			continue
		}
		if c.Not && !Negatable(c.Type) {
			fail("this condition cannot be negated.")
			continue
		}
		if extra := c.extraMembers(); extra != "" {
			fail("%q does not apply to this kind of condition.", extra)
			continue
		}
		switch c.Type {
		case CondEngagement:
			if c.EngagementID <= 0 {
				fail("choose an engagement.")
			}
		case CondChannel:
			switch {
			case c.ChannelID <= 0:
				fail("choose a channel.")
			case c.MinDays != nil && *c.MinDays < 0, c.MaxDays != nil && *c.MaxDays < 0:
				fail("the number of days cannot be negative.")
			case c.MinDays != nil && *c.MinDays > 36500, c.MaxDays != nil && *c.MaxDays > 36500:
				fail("use at most 36500 days.")
			case c.MinDays != nil && c.MaxDays != nil && *c.MinDays > *c.MaxDays:
				fail("at least %d days is more than at most %d days.", *c.MinDays, *c.MaxDays)
			}
		case CondAge:
			switch {
			case c.MinAge == nil || c.MaxAge == nil:
				fail("give both ages, from and to.")
			case *c.MinAge < 0 || *c.MaxAge < 0:
				fail("ages cannot be negative.")
			case *c.MinAge > MaxAge || *c.MaxAge > MaxAge:
				fail("use ages up to %d.", MaxAge)
			case *c.MinAge > *c.MaxAge:
				fail("from %d is above to %d.", *c.MinAge, *c.MaxAge)
			}
		case CondGender:
			if len(c.Genders) == 0 {
				fail("choose at least one gender.")
			}
			for _, g := range c.Genders {
				if g != GenderFemale && g != GenderMale && g != GenderOther {
					fail("%q is not a gender; use female, male or other.", g)
					break
				}
			}
			if hasDuplicates(c.Genders) {
				fail("a gender is listed twice.")
			}
		case CondLanguage:
			if len(c.Languages) == 0 {
				fail("choose at least one language.")
			}
			for _, l := range c.Languages {
				if !languageRE.MatchString(l) {
					fail("%q is not a language code; use two lower-case letters such as en.", l)
					break
				}
			}
			if hasDuplicates(c.Languages) {
				fail("a language is listed twice.")
			}
		case CondCurrentPoints, CondTotalPoints:
			switch {
			case c.ProgramID <= 0:
				fail("choose a loyalty program.")
			case c.Op != OpLess && c.Op != OpExactly && c.Op != OpMore:
				fail("choose less than, exactly or more than.")
			case c.Points == nil:
				fail("give a number of points.")
			case *c.Points < 0:
				fail("the number of points cannot be negative.")
			case *c.Points > 1_000_000_000_000:
				fail("the number of points is too large.")
			}
		case CondLevel:
			switch {
			case c.ProgramID <= 0:
				fail("choose a gamification or advanced program.")
			case c.MinLevel == nil || c.MaxLevel == nil:
				fail("choose the levels from and to.")
			case *c.MinLevel < 1 || *c.MaxLevel < 1:
				fail("levels count from 1.")
			case *c.MinLevel > *c.MaxLevel:
				fail("from level %d is above to level %d.", *c.MinLevel, *c.MaxLevel)
			}
		case CondList:
			if len(c.ListIDs) == 0 {
				fail("choose at least one list.")
			}
			for _, id := range c.ListIDs {
				if id <= 0 {
					fail("list ids are positive numbers.")
					break
				}
			}
			if hasDuplicates(c.ListIDs) {
				fail("a list is chosen twice.")
			}
		}
	}
	return ruleError(v)
}

// extraMembers returns the name of a member set on c that its type does
// not use, or "".
func (c Condition) extraMembers() string {
	set := map[string]bool{
		"engagement_id": c.EngagementID != 0, "channel_id": c.ChannelID != 0, "min_days": c.MinDays != nil, "max_days": c.MaxDays != nil,
		"min_age": c.MinAge != nil, "max_age": c.MaxAge != nil, "genders": c.Genders != nil, "languages": c.Languages != nil,
		"program_id": c.ProgramID != 0, "op": c.Op != "", "points": c.Points != nil, "min_level": c.MinLevel != nil, "max_level": c.MaxLevel != nil,
		"list_ids": c.ListIDs != nil,
	}
	allowed := conditionFields[c.Type]
	var names []string
	for k, on := range set {
		if on && !slices.Contains(allowed, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func hasDuplicates[T comparable](xs []T) bool {
	seen := map[T]bool{}
	for _, x := range xs {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}

// JSON returns the stored form of the rule.
func (r Rule) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// Refs lists the objects a rule refers to, by kind: "engagement",
// "channel", "program", "list".
func (r Rule) Refs() map[string][]int64 {
	out := map[string][]int64{}
	add := func(kind string, id int64) {
		if id > 0 && !slices.Contains(out[kind], id) {
			out[kind] = append(out[kind], id)
		}
	}
	for _, c := range r.Conditions {
		switch c.Type {
		case CondEngagement:
			add("engagement", c.EngagementID)
		case CondChannel:
			add("channel", c.ChannelID)
		case CondCurrentPoints, CondTotalPoints, CondLevel:
			add("program", c.ProgramID)
		case CondList:
			for _, id := range c.ListIDs {
				add("list", id)
			}
		}
	}
	return out
}

// AgeBounds turns "age from min to max on day now" into bounds on a birth
// date written YYYY-MM-DD: the follower's age is in range exactly when
// after < birth_date <= upTo. The bounds may be impossible calendar dates
// (2023-02-29); as strings they still order correctly, which keeps the rule
// identical to Follower.Age on leap days.
func AgeBounds(now time.Time, minAge, maxAge int) (after, upTo string) {
	y, m, d := now.Date()
	upTo = fmt.Sprintf("%04d-%02d-%02d", y-minAge, int(m), d)
	after = fmt.Sprintf("%04d-%02d-%02d", y-maxAge-1, int(m), d)
	return after, upTo
}

// DayMS is one day of 24 hours in milliseconds: "followed for N days" is
// measured to the millisecond.
const DayMS = int64(24 * time.Hour / time.Millisecond)

// Describe says what the condition means, for lists and summaries. names
// resolves ids to names ("engagement", "channel", "program", "list").
func (c Condition) Describe(names func(kind string, id int64) string) string {
	switch c.Type {
	case CondEngagement:
		verb := "Has enabled"
		if c.Not {
			verb = "Hasn't enabled"
		}
		return verb + " " + names("engagement", c.EngagementID)
	case CondChannel:
		verb := "Follows"
		if c.Not {
			verb = "Doesn't follow"
		}
		s := verb + " " + names("channel", c.ChannelID)
		switch {
		case c.MinDays != nil && c.MaxDays != nil:
			s += fmt.Sprintf(" for %d to %d days", *c.MinDays, *c.MaxDays)
		case c.MinDays != nil:
			s += fmt.Sprintf(" for at least %d days", *c.MinDays)
		case c.MaxDays != nil:
			s += fmt.Sprintf(" for at most %d days", *c.MaxDays)
		}
		return s
	case CondAge:
		if c.MinAge != nil && c.MaxAge != nil {
			return fmt.Sprintf("Age %d to %d", *c.MinAge, *c.MaxAge)
		}
	case CondGender:
		return "Gender: " + strings.Join(c.Genders, " or ")
	case CondLanguage:
		return "Language: " + strings.Join(c.Languages, ", ")
	case CondCurrentPoints, CondTotalPoints:
		what := "Current points"
		if c.Type == CondTotalPoints {
			what = "Total points"
		}
		op := map[string]string{OpLess: "less than", OpExactly: "exactly", OpMore: "more than"}[c.Op]
		n := int64(0)
		if c.Points != nil {
			n = *c.Points
		}
		return fmt.Sprintf("%s in %s %s %d", what, names("program", c.ProgramID), op, n)
	case CondLevel:
		if c.MinLevel != nil && c.MaxLevel != nil {
			if *c.MinLevel == *c.MaxLevel {
				return fmt.Sprintf("Level %d in %s", *c.MinLevel, names("program", c.ProgramID))
			}
			return fmt.Sprintf("Level %d to %d in %s", *c.MinLevel, *c.MaxLevel, names("program", c.ProgramID))
		}
	case CondList:
		var ns []string
		for _, id := range c.ListIDs {
			ns = append(ns, names("list", id))
		}
		return "In list " + strings.Join(ns, " or ")
	}
	return ConditionLabel(c.Type)
}
