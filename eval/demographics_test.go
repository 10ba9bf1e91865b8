package eval_test

import (
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/eval"
)

func TestAgeBand(t *testing.T) {
	t.Parallel()
	for age, want := range map[int]string{7: "under 25", 24: "under 25", 25: "25-34", 34: "25-34", 35: "35-44",
		44: "35-44", 45: "45-54", 54: "45-54", 55: "55+", 73: "55+"} {
		if got := eval.AgeBand(age); got != want {
			t.Errorf("AgeBand(%d) = %q, want %q", age, got, want)
		}
	}
}

func TestReadMovieLensUsers(t *testing.T) {
	t.Parallel()
	d, err := eval.ReadMovieLensUsers(strings.NewReader("1|24|M|technician|85711\n2|53|F|other|94043\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Labels["1"]["gender"] != "M" || d.Labels["1"]["age"] != "under 25" || d.Labels["2"]["age"] != "45-54" {
		t.Errorf("labels %v", d.Labels)
	}
	if strings.Join(d.Targets, ",") != "gender,age" || len(d.Classes["age"]) != 5 {
		t.Errorf("targets %v, classes %v", d.Targets, d.Classes)
	}
	_, err = eval.ReadMovieLensUsers(strings.NewReader("1|24|X|technician|85711\n"))
	if qianmian.ErrorField(err) != "gender" {
		t.Errorf("bad gender: %v (field %q)", err, qianmian.ErrorField(err))
	}
}

func TestReadMovieLensRatings_KeepsTheRating(t *testing.T) {
	t.Parallel()
	log, err := eval.ReadMovieLensRatings(strings.NewReader("196\t242\t3\t881250949\n186\t302\t5\t891717742\n"))
	if err != nil || len(log) != 2 || log[0].Weight != 3 || log[1].Weight != 5 || log[1].Time != 891717742 {
		t.Fatalf("%+v, %v", log, err)
	}
	if _, err := eval.ReadMovieLensRatings(strings.NewReader("196\t242\t6\t881250949\n")); qianmian.ErrorField(err) != "rating" {
		t.Errorf("rating 6: %v", err)
	}
}

func TestReadDunnhumbyDemographics(t *testing.T) {
	t.Parallel()
	csv := `"household_id","age","income","home_ownership","marital_status","household_size","household_comp","kids_count"
"1","65+","35-49K","Homeowner","Married","2","2 Adults No Kids","0"
"2","19-24","Under 15K",,"Unmarried","1","1 Adult Kids","3+"
"3","55-64","250K+",,,,,
"4","25-34","75-99K",,,,,"1"
`
	d, err := eval.ReadDunnhumbyDemographics(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	for hh, want := range map[string][3]string{
		"1": {"55+", "35-74K", "no"},
		"2": {"under 25", "under 35K", "yes"},
		"3": {"55+", "75K+", ""},
		"4": {"25-34", "75K+", "yes"},
	} {
		got := d.Labels[hh]
		if got["age"] != want[0] || got["income"] != want[1] || got["kids"] != want[2] {
			t.Errorf("household %s: %v, want %v", hh, got, want)
		}
	}
	if _, declared := d.Labels["3"]["kids"]; declared {
		t.Error("an empty kids_count is undeclared")
	}
	bad := strings.Replace(csv, `"35-49K"`, `"lots"`, 1)
	if _, err := eval.ReadDunnhumbyDemographics(strings.NewReader(bad)); qianmian.ErrorField(err) != "income" {
		t.Errorf("bad income: %v", err)
	}
}

func TestLoadPersonaDataset(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	ml, err := eval.LoadPersonaDataset(dir, "movielens-100k")
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Log) != 100_000 || len(ml.Demographics.Labels) != 943 || len(ml.Tokens) != 1682 {
		t.Fatalf("movielens: %d ratings, %d users, %d films", len(ml.Log), len(ml.Demographics.Labels), len(ml.Tokens))
	}
	var female int
	for _, l := range ml.Demographics.Labels {
		if l["gender"] == "F" {
			female++
		}
	}
	if female != 273 {
		t.Errorf("%d women, want 273", female)
	}
	dh, err := eval.LoadPersonaDataset(dir, "dunnhumby")
	if err != nil {
		t.Fatal(err)
	}
	if len(dh.Log) != 75_000 || len(dh.Context) != 75_000 || len(dh.Amount) != 75_000 || len(dh.Demographics.Labels) != 801 {
		t.Fatalf("dunnhumby: %d lines, %d contexts, %d amounts, %d households",
			len(dh.Log), len(dh.Context), len(dh.Amount), len(dh.Demographics.Labels))
	}
	toks := strings.Join(dh.Tokens[dh.Log[0].Item], " ")
	if !strings.Contains(toks, "dept=") || !strings.Contains(toks, "price=") || !strings.HasPrefix(dh.Context[0][0], "store=") {
		t.Errorf("first line: tokens %q, context %v", toks, dh.Context[0])
	}
	if _, err := eval.LoadPersonaDataset(dir, "diginetica"); qianmian.ErrorCode(err) != qianmian.EINVALID {
		t.Errorf("a dataset without demographics: %v", err)
	}
}
