package store

import (
	"database/sql/driver"
	"regexp"
	"strings"
	"unicode"

	msqlite "modernc.org/sqlite"
)

// Search of people's and places' names ignores case and accents: "muller"
// finds "Müller", "cafe" finds "Café". Queries write fold(column); on
// SQLite fold is the Go function Fold registered below, on PostgreSQL it
// becomes translate(lower(column), …) with the same letters, so both
// databases and the searched-for text fold alike.

// foldPairs are accented Latin letters (lower case) and their base letter.
var foldPairs = []string{
	"àa", "áa", "âa", "ãa", "äa", "åa", "āa", "ăa", "ąa",
	"çc", "ćc", "čc", "ďd", "đd",
	"èe", "ée", "êe", "ëe", "ēe", "ėe", "ęe", "ěe",
	"ìi", "íi", "îi", "ïi", "īi", "įi", "ıi",
	"łl", "ľl", "ĺl", "ñn", "ńn", "ňn",
	"òo", "óo", "ôo", "õo", "öo", "øo", "ōo", "őo",
	"ŕr", "řr", "śs", "šs", "şs", "șs", "ťt", "ţt", "țt",
	"ùu", "úu", "ûu", "üu", "ūu", "ůu", "űu", "ųu",
	"ýy", "ÿy", "źz", "żz", "žz",
}

var (
	foldMap          = map[rune]rune{}
	foldFrom, foldTo string
	foldCall         = regexp.MustCompile(`\bfold\(([a-z_.]+)\)`)
	foldedPostgres   string // the replacement of fold(x) on PostgreSQL
)

func init() {
	var from, to strings.Builder
	for _, p := range foldPairs {
		r := []rune(p)
		foldMap[r[0]] = r[1]
		// PostgreSQL's lower() leaves non-ASCII letters alone under the C
		// collation: the upper-case forms are translated too.
		for _, c := range []rune{r[0], unicode.ToUpper(r[0])} {
			from.WriteRune(c)
			to.WriteRune(r[1])
		}
	}
	foldFrom, foldTo = from.String(), to.String()
	foldedPostgres = "translate(lower($1), '" + foldFrom + "', '" + foldTo + "')"
	msqlite.MustRegisterDeterministicScalarFunction("fold", 1, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		s, ok := args[0].(string)
		if !ok {
			return args[0], nil // NULL stays NULL
		}
		return Fold(s), nil
	})
}

// Fold lowers s and takes the accents off its Latin letters: what names
// are compared as when searching.
func Fold(s string) string {
	return strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if b, ok := foldMap[r]; ok {
			return b
		}
		return r
	}, s)
}
