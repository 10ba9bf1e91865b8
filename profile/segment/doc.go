// Package segment is the segment language of qianmian: small boolean expressions over a
// consumer's traits and tags, such as
//
//	affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"]
//
// and an Index that keeps each segment's members current as consumers' profiles change.
//
// The package is pure: it imports the standard library only and knows nothing of profiles,
// storage or HTTP. A host (package profile) declares the traits and functions its profiles
// answer in a Schema, compiles segment definitions with Schema.Compile, and hands each changed
// profile to Index.Update as a Subject, publishing the Changes it returns.
//
// # Grammar
//
// In EBNF (https://go.dev/ref/spec#Notation); white space (spaces, tabs, newlines) separates
// tokens and is otherwise ignored. Keywords are case-insensitive (AND, And and and are one
// keyword); the canonical form that String renders writes them in lower case.
//
//	Expr       = OrExpr .
//	OrExpr     = AndExpr { "or" AndExpr } .
//	AndExpr    = NotExpr { "and" NotExpr } .
//	NotExpr    = "not" NotExpr | Comparison .
//	Comparison = Operand [ CompareOp Operand ] .
//	CompareOp  = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
//	           | "in" | "not" "in" | "contains" .
//	Operand    = Number | String | "true" | "false" | List
//	           | Ident | Call | "(" Expr ")" .
//	Call       = Ident "(" [ Expr { "," Expr } ] ")" .
//	List       = "[" [ Element { "," Element } ] "]" .
//	Element    = Number | String .
//	Ident      = Letter { Letter | Digit } .
//	Letter     = "A" … "Z" | "a" … "z" | "_" .
//	Digit      = "0" … "9" .
//	Number     = [ "-" ] ( Digits [ "." Digits ] | "." Digits ) [ Exponent ] .
//	Digits     = Digit { Digit } .
//	Exponent   = ( "e" | "E" ) [ "+" | "-" ] Digits .
//	String     = `"` { Char | Escape } `"` | "'" { Char | Escape } "'" .
//	Escape     = `\` ( `"` | "'" | `\` | "/" | "b" | "f" | "n" | "r" | "t" | "u" Hex Hex Hex Hex ) .
//
// A Char is any Unicode character except the string's own quote, a backslash and a newline.
// \u escapes name UTF-16 code units, so characters outside the Basic Multilingual Plane are
// written as a surrogate pair, as in JSON. The keywords and, or, not, in, contains, true and
// false cannot be used as names.
//
// # Precedence
//
// From loosest to tightest binding:
//
//	or
//	and
//	not
//	= == != < <= > >= in, not in, contains   (non-associative: a < b < c is an error)
//	literals, names, calls, lists, ( … )
//
// So a or b and c means a or (b and c), and not city = "Shanghai" means
// not (city = "Shanghai").
//
// # Types
//
// Every expression has one of five types: number, string, bool, list of numbers and list of
// strings. = and != compare two values of one scalar type; < <= > >= compare numbers; x in L
// asks whether the list L (a literal or a list trait) holds x; L contains x asks the same the
// other way round, and s contains t asks whether the string s holds the substring t. and, or
// and not take bools, and a whole segment expression must be a bool. Compile checks all of
// this against the Schema and reports mistakes with their column, before anything runs.
//
// # Missing values
//
// A trait the Subject does not know (Lookup answers ok == false) is missing, and every
// comparison that reads it is Unknown rather than true or false. Unknown follows Kleene's
// three-valued logic: false and Unknown is false, true or Unknown is true, not Unknown is
// Unknown, and anything else with Unknown is Unknown. A subject is a member of a segment only
// when its expression is True. So city != "Shanghai" and not (city = "Shanghai") both leave
// out consumers whose city is not known: a segment never targets someone on a guess. The
// built-in known(x) is true exactly when x is not missing, for expressions that want to say
// what to do with unknowns (not known(city) or city = "Shanghai").
//
// # Built-in functions
//
//	known(x)  bool    true when x has a value, false when x is missing; never Unknown
//	len(x)    number  the number of elements of a list
//
// Every other function is declared by the host (see Schema.DeclareFunc and DefaultSchema),
// takes string literal arguments, and is answered by Subject.Lookup(name, args...).
package segment
