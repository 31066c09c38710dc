#include "consent/consent.h"

#include <gtest/gtest.h>

#include <set>

#include "audit/testing.h"
#include "consent/consent_test_support.h"

namespace zengen::consent {
namespace {

using nlohmann::json;
using enum State;
using enum Event;
using Decisions = std::map<std::string, std::string>;

// ---- the transition table, row by row (pure) -----------------------------------------------

struct Row {
  State from;
  Event event;
  std::optional<State> to;  // nullopt: refused
};

// Written out independently of TransitionTable(): all 5 × 6 pairs.
const std::vector<Row>& ExpectedRows() {
  static const std::vector<Row> rows = {
      {kNone, kInitial, kActive},
      {kNone, kModification, std::nullopt},
      {kNone, kReconsent, std::nullopt},
      {kNone, kWithdrawNoContact, std::nullopt},
      {kNone, kWithdrawNoNewData, std::nullopt},
      {kNone, kWithdrawFull, std::nullopt},
      {kActive, kInitial, std::nullopt},
      {kActive, kModification, kActive},
      {kActive, kReconsent, kActive},
      {kActive, kWithdrawNoContact, kWithdrawnNoContact},
      {kActive, kWithdrawNoNewData, kWithdrawnNoNewData},
      {kActive, kWithdrawFull, kWithdrawnFull},
      {kWithdrawnNoContact, kInitial, std::nullopt},
      {kWithdrawnNoContact, kModification, kActive},
      {kWithdrawnNoContact, kReconsent, kActive},
      {kWithdrawnNoContact, kWithdrawNoContact, std::nullopt},
      {kWithdrawnNoContact, kWithdrawNoNewData, kWithdrawnNoNewData},
      {kWithdrawnNoContact, kWithdrawFull, kWithdrawnFull},
      {kWithdrawnNoNewData, kInitial, std::nullopt},
      {kWithdrawnNoNewData, kModification, kWithdrawnNoNewData},
      {kWithdrawnNoNewData, kReconsent, kActive},
      {kWithdrawnNoNewData, kWithdrawNoContact, std::nullopt},
      {kWithdrawnNoNewData, kWithdrawNoNewData, std::nullopt},
      {kWithdrawnNoNewData, kWithdrawFull, kWithdrawnFull},
      {kWithdrawnFull, kInitial, std::nullopt},
      {kWithdrawnFull, kModification, std::nullopt},
      {kWithdrawnFull, kReconsent, std::nullopt},
      {kWithdrawnFull, kWithdrawNoContact, std::nullopt},
      {kWithdrawnFull, kWithdrawNoNewData, std::nullopt},
      {kWithdrawnFull, kWithdrawFull, std::nullopt},
  };
  return rows;
}

std::string RowName(const Row& r) {
  std::string s = std::string(StateName(r.from)) + "__" + std::string(EventName(r.event));
  for (char& c : s) {
    if (c == ':') c = '_';
  }
  return s;
}

TEST(TransitionTable, EveryPairIsListedOnceAndTableHasNoExtraRows) {
  EXPECT_EQ(ExpectedRows().size(), 30u);
  size_t allowed = 0;
  for (const Row& r : ExpectedRows()) allowed += r.to.has_value();
  EXPECT_EQ(TransitionTable().size(), allowed);
}

class TransitionRowTest : public ::testing::TestWithParam<Row> {};

TEST_P(TransitionRowTest, NextFollowsTheRow) {
  const Row& row = GetParam();
  const auto next = Next(row.from, row.event);
  if (row.to) {
    ASSERT_TRUE(next.ok()) << next.error().message;
    EXPECT_EQ(*next, *row.to);
  } else {
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.error().kind, ErrorKind::kConflict);
    EXPECT_EQ(next.error().code, "invalid_consent_transition");
    EXPECT_NE(next.error().message.find(StateName(row.from)), std::string::npos);
    EXPECT_NE(next.error().message.find(EventName(row.event)), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, TransitionRowTest, ::testing::ValuesIn(ExpectedRows()),
                         [](const auto& info) { return RowName(info.param); });

// ---- the same rows through the store, on each backend ---------------------------------------

using testing::StoreFixture;

class ConsentTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    // A newer cancer ICF in English, for reconsent.
    IcfVersion v11{"cancer", "1.1", "en", "2026-10-01", DefaultCatalogue("cancer"), "", ""};
    ASSERT_TRUE(ledger_->RegisterIcfVersion(v11, actor_).ok());
  }

  // Brings a new participant into `state`.
  std::string InState(State state, const std::string& local_id) {
    const std::string id = NewParticipant(local_id);
    if (state == kNone) return id;
    EXPECT_TRUE(ledger_->Record(id, Input("initial"), actor_).ok());
    const char* level = state == kWithdrawnNoContact   ? "no_contact"
                        : state == kWithdrawnNoNewData ? "no_new_data"
                        : state == kWithdrawnFull      ? "full"
                                                       : nullptr;
    if (level) {
      EXPECT_TRUE(ledger_->Withdraw(id, {level, "2026-11-21", "test"}, actor_).ok());
    }
    auto s = ledger_->Current(id);
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s->state, state);
    return id;
  }

  Result<State> Apply(const std::string& id, Event e) {
    const auto withdraw = [&](const char* level) -> Result<State> {
      ZG_ASSIGN_OR_RETURN(auto w, ledger_->Withdraw(id, {level, "2026-11-22", ""}, actor_));
      return w.record.state();
    };
    switch (e) {
      case kInitial:
      case kModification:
      case kReconsent: {
        const std::string kind(EventName(e));
        ConsentInput in = e == kReconsent ? Input(kind, "1.1", "en") : Input(kind);
        ZG_ASSIGN_OR_RETURN(auto r, ledger_->Record(id, in, actor_));
        return r.state();
      }
      case kWithdrawNoContact:
        return withdraw("no_contact");
      case kWithdrawNoNewData:
        return withdraw("no_new_data");
      case kWithdrawFull:
        return withdraw("full");
    }
    return Internal("unreachable", "");
  }

  int64_t CountRecords(const std::string& id) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    auto rows = (*tx)->Query("SELECT COUNT(*) FROM consent_records WHERE participant_id = $1",
                             {storage::Text(id)});
    return rows->rows[0].Int(0);
  }
};

TEST_P(ConsentTest, EveryTransitionRowHoldsThroughTheStore) {
  int n = 0;
  for (const Row& row : ExpectedRows()) {
    SCOPED_TRACE(RowName(row));
    const std::string id = InState(row.from, "row-" + std::to_string(n++));
    const int64_t before = CountRecords(id);
    const size_t events_before = audit_.events().size();
    const auto got = Apply(id, row.event);
    if (row.to) {
      ASSERT_TRUE(got.ok()) << got.error().code << ": " << got.error().message;
      EXPECT_EQ(*got, *row.to);
      EXPECT_EQ(ledger_->Current(id)->state, *row.to);
      EXPECT_EQ(CountRecords(id), before + 1);
      EXPECT_EQ(audit_.events().size(), events_before + 1);
    } else {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.error().code, "invalid_consent_transition");
      EXPECT_EQ(got.error().kind, ErrorKind::kConflict);
      EXPECT_EQ(CountRecords(id), before);  // nothing written
      EXPECT_EQ(audit_.events().size(), events_before);
    }
  }
}

TEST_P(ConsentTest, DefaultIcfIsSeededOnceForBothProgramsAndLanguages) {
  ASSERT_TRUE(EnsureDefaultIcf(*store_, clock_).ok());  // again: idempotent
  auto list = ledger_->ListIcfVersions();
  ASSERT_TRUE(list.ok());
  std::set<std::string> keys;
  for (const auto& v : *list) keys.insert(v.program + "/" + v.version + "/" + v.language);
  EXPECT_EQ(keys, (std::set<std::string>{"cancer/1.0/en", "cancer/1.0/ja", "cancer/1.1/en",
                                         "rare_disease/1.0/en", "rare_disease/1.0/ja"}));
  auto cancer = ledger_->GetIcf("cancer", "1.0", "ja");
  ASSERT_TRUE(cancer.ok());
  ASSERT_EQ(cancer->items.size(), 15u);
  EXPECT_EQ(cancer->items[3].code, "C04");
  EXPECT_EQ(cancer->items[3].item_class, ItemClass::kMandatory);
  EXPECT_EQ(cancer->items[3].duo, "GRU");
  auto rd = ledger_->GetIcf("rare_disease", "1.0", "en");
  ASSERT_TRUE(rd.ok());
  for (int i : {3, 4, 5}) EXPECT_EQ(rd->items[i].item_class, ItemClass::kOptOut);
  EXPECT_EQ(ledger_->GetIcf("cancer", "9.9", "ja").error().code, "icf_not_found");
}

TEST_P(ConsentTest, RegisterIcfValidatesAndRefusesDuplicates) {
  auto items = DefaultCatalogue("cancer");
  struct Case {
    std::function<void(IcfVersion&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](IcfVersion& v) { v.program = "other"; }, "program"},
      {[](IcfVersion& v) { v.version = "1.x"; }, "version"},
      {[](IcfVersion& v) { v.language = "fr"; }, "language"},
      {[](IcfVersion& v) { v.effective_date = "2026-13-01"; }, "effective_date"},
      {[](IcfVersion& v) { v.items.clear(); }, "items"},
      {[](IcfVersion& v) { v.items[1].code = "C01"; }, "items[1].code"},
      {[](IcfVersion& v) { v.items[2].code = "c3"; }, "items[2].code"},
      {[](IcfVersion& v) { v.items[4].label_en = ""; }, "items[4].label.en"},
      {[](IcfVersion& v) { v.items[0].duo = "XYZ"; }, "items[0].duo"},
  };
  for (const auto& c : cases) {
    IcfVersion v{"cancer", "2.0", "en", "2027-01-01", items, "", ""};
    c.mutate(v);
    auto r = ledger_->RegisterIcfVersion(v, actor_);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument) << c.field;
    EXPECT_EQ(r.error().field, c.field);
  }
  // A Japanese document needs Japanese labels only.
  IcfVersion ja{"cancer", "2.0", "ja", "2027-01-01", items, "", ""};
  ja.items[0].label_en.clear();
  ASSERT_TRUE(ledger_->RegisterIcfVersion(ja, actor_).ok());
  auto dup = ledger_->RegisterIcfVersion(ja, actor_);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "icf_version_exists");
  EXPECT_EQ(audit_.events().back().action, "icf.write");
  // ParseCatalogue names the field of a bad class.
  auto parsed = ParseCatalogue(json::parse(R"([{"code":"C01","class":"SOMETIMES"}])"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().field, "items[0].class");
  // The stored catalogue round-trips.
  auto back = ParseCatalogue(CatalogueJson(items));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(CatalogueJson(*back), CatalogueJson(items));
}

TEST_P(ConsentTest, ValidationNamesTheField) {
  const std::string id = NewParticipant("val");
  struct Case {
    std::string name;
    std::function<void(ConsentInput&)> mutate;
    std::string code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"unknown item", [](ConsentInput& in) { in.decisions["C99"] = "permit"; }, "unknown_item",
       "decisions.C99"},
      {"missing item", [](ConsentInput& in) { in.decisions.erase("C05"); }, "missing_decision",
       "decisions.C05"},
      {"bad value", [](ConsentInput& in) { in.decisions["C07"] = "maybe"; }, "invalid_decision",
       "decisions.C07"},
      {"mandatory denied", [](ConsentInput& in) { in.decisions["C01"] = "deny"; },
       "mandatory_item_denied", "decisions.C01"},
      {"mandatory undecided", [](ConsentInput& in) { in.decisions["C04"] = "undecided"; },
       "mandatory_item_denied", "decisions.C04"},
      {"impossible date", [](ConsentInput& in) { in.signed_date = "2026-02-30"; }, "invalid_date",
       "signed_date"},
      {"future date", [](ConsentInput& in) { in.signed_date = "2026-11-25"; }, "date_in_future",
       "signed_date"},
      {"bad kind", [](ConsentInput& in) { in.kind = "withdrawal"; }, "invalid_kind", "kind"},
      {"bad language", [](ConsentInput& in) { in.language = "fr"; }, "invalid_language",
       "language"},
      {"bad version", [](ConsentInput& in) { in.icf_version = "one"; }, "invalid_version",
       "icf_version"},
      {"details not object", [](ConsentInput& in) { in.details = json::array(); }, "invalid_type",
       "details"},
      {"bad signer", [](ConsentInput& in) { in.details["signer"] = "neighbour"; }, "invalid_signer",
       "details.signer"},
      {"missing method", [](ConsentInput& in) { in.details.erase("method"); }, "invalid_method",
       "details.method"},
      {"unknown detail", [](ConsentInput& in) { in.details["foo"] = 1; }, "unknown_field",
       "details.foo"},
      {"C11 without relative", [](ConsentInput& in) { in.details.erase("designated_relative"); },
       "missing_field", "details.designated_relative"},
      {"relative without contact",
       [](ConsentInput& in) { in.details["designated_relative"].erase("contact"); },
       "missing_field", "details.designated_relative.contact"},
      {"bad channel", [](ConsentInput& in) { in.details["preferred_channel"] = "fax"; },
       "invalid_channel", "details.preferred_channel"},
      {"proxy without representative",
       [](ConsentInput& in) { in.details["signer"] = "legal_representative"; }, "missing_field",
       "details.representative"},
      {"representative without name",
       [](ConsentInput& in) {
         in.details["signer"] = "self_plus_representative";
         in.details["representative"] = {{"relationship", "parent"}};
       },
       "missing_field", "details.representative.name"},
      {"representative of unknown relationship",
       [](ConsentInput& in) {
         in.details["signer"] = "legal_representative";
         in.details["representative"] = {{"name", "山田 花子"}, {"relationship", "friend"}};
       },
       "invalid_relationship", "details.representative.relationship"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ConsentInput in = Input("initial");
    c.mutate(in);
    auto r = ledger_->Record(id, in, actor_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_EQ(r.error().field, c.field);
  }
  EXPECT_EQ(CountRecords(id), 0);
  EXPECT_TRUE(audit_.events().size() == 1u);  // only the ICF registration of SetUp

  // Today is allowed; a withdrawal validates its level and date.
  ConsentInput today = Input("initial");
  today.signed_date = "2026-11-24";
  // Signed by a representative, named with the relationship: recorded as given.
  today.details["signer"] = "legal_representative";
  today.details["representative"] = {{"name", "山田 花子"}, {"relationship", "parent"}};
  ASSERT_TRUE(ledger_->Record(id, today, actor_).ok());
  EXPECT_EQ(ledger_->Current(id)->current->details["representative"]["relationship"], "parent");
  EXPECT_EQ(ledger_->Withdraw(id, {"partial", "2026-11-24", ""}, actor_).error().field, "level");
  EXPECT_EQ(ledger_->Withdraw(id, {"full", "2026-11-31", ""}, actor_).error().field, "signed_date");
  EXPECT_EQ(ledger_->Record("ZG-NOPE", Input("initial"), actor_).error().code,
            "participant_not_found");
  EXPECT_EQ(ledger_->Record(id, Input("modification", "7.0"), actor_).error().code,
            "icf_not_found");
}

TEST_P(ConsentTest, ProgramDecidesWhichItemsAreMandatory) {
  Decisions d = AllPermit("rare_disease");
  d["C04"] = d["C05"] = d["C06"] = "deny";
  const std::string rd = NewParticipant("rd-1", "rare_disease");
  ASSERT_TRUE(ledger_->Record(rd, Input("initial", "1.0", "en", d), actor_).ok());
  const std::string ca = NewParticipant("ca-1", "cancer");
  auto r = ledger_->Record(ca, Input("initial", "1.0", "en", d), actor_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "mandatory_item_denied");
  EXPECT_EQ(r.error().field, "decisions.C04");
}

TEST_P(ConsentTest, GuardsOnModificationAndReconsent) {
  const std::string id = InState(kActive, "guards");
  // Modification keeps the version.
  auto m = ledger_->Record(id, Input("modification", "1.1", "en"), actor_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "icf_version_mismatch");
  EXPECT_EQ(m.error().field, "icf_version");
  // …but may use the other language of the same version.
  Decisions d = AllPermit();
  d["C12"] = "deny";
  ASSERT_TRUE(ledger_->Record(id, Input("modification", "1.0", "en", d), actor_).ok());
  // Reconsent needs a newer version.
  auto same = ledger_->Record(id, Input("reconsent", "1.0", "ja"), actor_);
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code, "icf_version_not_newer");
  auto newer = ledger_->Record(id, Input("reconsent", "1.1", "en"), actor_);
  ASSERT_TRUE(newer.ok()) << newer.error().message;
  EXPECT_EQ(newer->icf_version, "1.1");
  EXPECT_EQ(newer->icf_language, "en");
  // Versions compare numerically.
  EXPECT_TRUE(VersionLess("1.9", "1.10"));
  EXPECT_TRUE(VersionLess("1.0", "2"));
  EXPECT_FALSE(VersionLess("1.0", "1"));
  EXPECT_FALSE(VersionLess("2.0", "1.10"));
}

TEST_P(ConsentTest, HistoryIsAppendOnlyAndEveryChangeIsAudited) {
  const std::string id = NewParticipant("hist");
  auto r1 = ledger_->Record(id, Input("initial"), actor_);
  ASSERT_TRUE(r1.ok());
  Decisions d = AllPermit();
  d["C07"] = "deny";
  auto r2 = ledger_->Record(id, Input("modification", "1.0", "ja", d), actor_);
  ASSERT_TRUE(r2.ok());
  auto w = ledger_->Withdraw(id, {"no_contact", "2026-11-23", "moved abroad"}, actor_);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->notify.empty());

  auto s = ledger_->Current(id);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->history.size(), 3u);
  EXPECT_EQ(s->history[0].seq, 1);
  EXPECT_EQ(s->history[0].supersedes, "");
  EXPECT_EQ(s->history[0].decisions, AllPermit());  // never updated
  EXPECT_EQ(s->history[1].seq, 2);
  EXPECT_EQ(s->history[1].supersedes, r1->id);
  EXPECT_EQ(s->history[2].supersedes, r2->id);
  EXPECT_EQ(s->history[2].kind, "withdrawal");
  EXPECT_EQ(s->history[2].details["withdrawal"]["reason"], "moved abroad");
  EXPECT_EQ(s->history[2].details["signer"], "self");  // the consent's facts carry over
  EXPECT_EQ(s->current->id, w->record.id);
  // No contact forces the contact items to deny; the rest is carried over.
  for (const char* c : {"C09", "C10", "C11", "C12", "C13"})
    EXPECT_EQ(s->current->decisions[c], "deny");
  EXPECT_EQ(s->current->decisions["C07"], "deny");
  EXPECT_EQ(s->current->decisions["C14"], "permit");
  EXPECT_EQ(CountRecords(id), 3);

  std::vector<AuditEvent> consent_events;
  for (const auto& e : audit_.events()) {
    if (e.action == "consent.write") consent_events.push_back(e);
  }
  ASSERT_EQ(consent_events.size(), 3u);
  for (const auto& e : consent_events) {
    EXPECT_EQ(e.resource, "participant/" + id);
    EXPECT_EQ(e.actor, "clin-a");
    EXPECT_EQ(e.request_id, "req-1");
  }
  EXPECT_EQ(json::parse(consent_events[2].details)["to"], "withdrawn_no_contact");

  // Restoring contact: a modification from withdrawn_no_contact.
  auto back = ledger_->Record(id, Input("modification"), actor_);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->state(), kActive);
  EXPECT_TRUE(ledger_->Current(id)->profile.recontact_allowed);
}

TEST_P(ConsentTest, MandatoryItemsCannotBeModifiedEvenIfTheCatalogueChangedClass) {
  // An ICF whose C14 is mandatory in ja: a participant who denied C14 under en (OPT_OUT)
  // cannot "modify" it through the ja form of the same version.
  auto items = DefaultCatalogue("cancer");
  IcfVersion en{"cancer", "3.0", "en", "2026-10-01", items, "", ""};
  ASSERT_TRUE(ledger_->RegisterIcfVersion(en, actor_).ok());
  items[13].item_class = ItemClass::kMandatory;  // C14
  IcfVersion ja{"cancer", "3.0", "ja", "2026-10-01", items, "", ""};
  ASSERT_TRUE(ledger_->RegisterIcfVersion(ja, actor_).ok());
  const std::string id = NewParticipant("mand");
  Decisions d = AllPermit();
  d["C14"] = "deny";
  ASSERT_TRUE(ledger_->Record(id, Input("initial", "3.0", "en", d), actor_).ok());
  auto m = ledger_->Record(id, Input("modification", "3.0", "ja"), actor_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "mandatory_item_changed");
  EXPECT_EQ(m.error().field, "decisions.C14");
}

// ---- Permits on the store -------------------------------------------------------------------

struct PurposeCase {
  std::string name;
  Purpose purpose;
};

std::vector<PurposeCase> AllPurposes() {
  using K = Purpose::Kind;
  return {
      {"research", {.kind = K::kResearch, .category = "HMB"}},
      {"linkage", {.kind = K::kLinkage}},
      {"new_data", {.kind = K::kNewData}},
      {"recontact", {.kind = K::kRecontact}},
      {"recontact_reinterpretation", {.kind = K::kRecontact, .reinterpretation = true}},
      {"primary_findings", {.kind = K::kPrimaryFindings}},
      {"secondary_findings", {.kind = K::kSecondaryFindings}},
  };
}

TEST_P(ConsentTest, NoConsentIsNeverPermitted) {
  const std::string id = NewParticipant("none");
  for (const auto& p : AllPurposes()) {
    auto d = Permits(*store_, id, p.purpose);
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->allowed) << p.name;
  }
  EXPECT_EQ(Permits(*store_, "ZG-NOPE", {}).error().code, "participant_not_found");
  EXPECT_EQ(Permits(*store_, id, {.category = "XYZ"}).error().field, "category");
  EXPECT_EQ(Permits(*store_, id, {.category = "DS"}).error().field, "disease");
}

TEST_P(ConsentTest, AWithdrawnParticipantIsRefusedForEveryPurposeTheWithdrawalCovers) {
  const std::map<std::string, std::set<std::string>> covers = {
      {"full",
       {"research", "linkage", "new_data", "recontact", "recontact_reinterpretation",
        "primary_findings", "secondary_findings"}},
      {"no_new_data", {"linkage", "new_data"}},
      {"no_contact",
       {"recontact", "recontact_reinterpretation", "primary_findings", "secondary_findings"}},
  };
  for (const auto& [level, refused] : covers) {
    SCOPED_TRACE(level);
    const std::string id = NewParticipant("wd-" + level);
    ASSERT_TRUE(ledger_->Record(id, Input("initial"), actor_).ok());
    for (const auto& p : AllPurposes()) {
      EXPECT_TRUE(Permits(*store_, id, p.purpose)->allowed) << p.name;
    }
    ASSERT_TRUE(ledger_->Withdraw(id, {level, "2026-11-24", ""}, actor_).ok());
    EXPECT_EQ(ledger_->Current(id)->profile.designated_relative, level == "no_new_data");
    // The very next decision sees the withdrawal.
    for (const auto& p : AllPurposes()) {
      auto d = Permits(*store_, id, p.purpose);
      ASSERT_TRUE(d.ok());
      EXPECT_EQ(d->allowed, !refused.contains(p.name)) << p.name << ": " << d->reason;
    }
  }
  // Stricter after no_contact: no_new_data keeps contact refused (decisions carried over).
  const std::string id = InState(kWithdrawnNoContact, "wd-both");
  ASSERT_TRUE(ledger_->Withdraw(id, {"no_new_data", "2026-11-24", ""}, actor_).ok());
  for (const auto& p : AllPurposes()) {
    EXPECT_EQ(Permits(*store_, id, p.purpose)->allowed, p.name == "research") << p.name;
  }
}

TEST_P(ConsentTest, PermitsAppliesDuoRulesToTheStoredConsent) {
  Decisions d = AllPermit("rare_disease");
  d["C05"] = "deny";
  d["C06"] = "deny";
  const std::string id = NewParticipant("duo", "rare_disease", "hosp-a", "rd_neuromuscular");
  ASSERT_TRUE(ledger_->Record(id, Input("initial", "1.0", "ja", d), actor_).ok());
  using K = Purpose::Kind;
  EXPECT_TRUE(Permits(*store_, id, {.kind = K::kResearch, .category = "GRU"})->allowed);
  EXPECT_FALSE(
      Permits(*store_, id, {.kind = K::kResearch, .category = "HMB", .commercial = true})->allowed);
  EXPECT_FALSE(
      Permits(*store_, id, {.kind = K::kResearch, .category = "HMB", .overseas = true})->allowed);
  EXPECT_TRUE(Permits(*store_, id,
                      {.kind = K::kResearch,
                       .category = "DS",
                       .disease = "epilepsy",
                       .methods_development = true})
                  ->allowed);
}

// ---- FHIR -----------------------------------------------------------------------------------

TEST_P(ConsentTest, FhirConsentShape) {
  const std::string id = NewParticipant("fhir");
  Decisions d = AllPermit();
  d["C08"] = "deny";
  d["C10"] = "undecided";
  auto r = ledger_->Record(id, Input("initial", "1.0", "en", d), actor_);
  ASSERT_TRUE(r.ok());
  auto icf = ledger_->GetIcf("cancer", "1.0", "en");
  const json f = FhirConsent(*r, *icf, true);
  EXPECT_EQ(f["resourceType"], "Consent");
  EXPECT_EQ(f["status"], "active");
  EXPECT_EQ(f["scope"]["coding"][0]["code"], "research");
  EXPECT_EQ(f["category"][0]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(f["patient"]["reference"], "Patient/" + id);
  EXPECT_EQ(f["dateTime"], "2026-11-20");
  EXPECT_EQ(f["policy"][0]["uri"], "urn:zengen:icf:cancer:1.0:en");
  EXPECT_EQ(f["provision"]["type"], "permit");
  const json& nested = f["provision"]["provision"];
  ASSERT_EQ(nested.size(), 14u);  // C10 undecided is left out
  EXPECT_EQ(nested[0]["code"][0]["coding"][0]["code"], "C01");
  EXPECT_EQ(nested[0]["type"], "permit");
  EXPECT_EQ(nested[7]["code"][0]["coding"][0]["code"], "C08");
  EXPECT_EQ(nested[7]["type"], "deny");
  EXPECT_EQ(nested[3]["purpose"][0]["code"], "DUO:0000042");
  EXPECT_EQ(FhirConsent(*r, *icf, false)["status"], "inactive");
  auto w = ledger_->Withdraw(id, {"full", "2026-11-24", ""}, actor_);
  const json wf = FhirConsent(w->record, *icf, true);
  EXPECT_EQ(wf["status"], "inactive");
  EXPECT_EQ(wf["provision"]["type"], "deny");
  EXPECT_EQ(wf["extension"][0]["valueCode"], "full");
}

// A consent record, a withdrawal and an ICF version commit with their audit records
// (AuditSink::AppendInTransaction): when the record's write fails, neither is stored.
TEST_P(ConsentTest, AChangeAndItsAuditRecordCommitTogetherOrNotAtAll) {
  audit::testing::FailAfterWriteSink sink(*store_, clock_);
  Ledger faulty(*store_, clock_, sink);
  const std::string id = NewParticipant("MRN-AUDIT");

  EXPECT_EQ(faulty.Record(id, Input("initial"), actor_).error().code, "audit_injected_failure");
  EXPECT_EQ(ledger_->Current(id)->state, kNone);
  EXPECT_TRUE(ledger_->Current(id)->history.empty());

  ASSERT_TRUE(ledger_->Record(id, Input("initial"), actor_).ok());
  EXPECT_EQ(faulty.Withdraw(id, {"full", "2026-11-22", "moving abroad"}, actor_).error().code,
            "audit_injected_failure");
  EXPECT_EQ(ledger_->Current(id)->state, kActive);
  EXPECT_EQ(ledger_->Current(id)->history.size(), 1u);

  IcfVersion v12{"cancer", "1.2", "ja", "2026-11-01", DefaultCatalogue("cancer"), "", ""};
  EXPECT_EQ(faulty.RegisterIcfVersion(v12, actor_).error().code, "audit_injected_failure");
  EXPECT_EQ(ledger_->GetIcf("cancer", "1.2", "ja").error().code, "icf_not_found");
  EXPECT_EQ(audit::testing::CountRecords(*store_, "consent.write"), 0);
  EXPECT_EQ(audit::testing::CountRecords(*store_, "icf.write"), 0);

  sink.fail_after_write = false;
  ASSERT_TRUE(faulty.Withdraw(id, {"full", "2026-11-22", "moving abroad"}, actor_).ok());
  EXPECT_EQ(ledger_->Current(id)->state, kWithdrawnFull);
  EXPECT_EQ(audit::testing::CountRecords(*store_, "consent.write"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsentTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

// ---- profile derivation and matching (pure) -------------------------------------------------

struct ProfileRow {
  std::string name;
  std::string program;
  Decisions changes;  // applied to "all permit"
  std::string level;  // withdrawal level in force
  std::vector<std::string> duo;
  bool linkage, new_data, recontact, primary_findings;
  std::string secondary;
  bool relative, residual;
};

ConsentRecord MakeRecord(const std::string& program, const Decisions& changes,
                         const std::string& level) {
  ConsentRecord r;
  r.decisions = testing::StoreFixture::AllPermit(program);
  for (const auto& [k, v] : changes) r.decisions[k] = v;
  r.withdrawal_level = level;
  r.details = testing::StoreFixture::Details();
  return r;
}

class ProfileRowTest : public ::testing::TestWithParam<ProfileRow> {};

TEST_P(ProfileRowTest, DerivesCodesAndFlags) {
  const ProfileRow& row = GetParam();
  const auto p = DeriveProfile(MakeRecord(row.program, row.changes, row.level),
                               DefaultCatalogue(row.program), "lung");
  EXPECT_EQ(p.duo, row.duo);
  EXPECT_EQ(p.any_use, row.level != "full");
  EXPECT_EQ(p.linkage_allowed, row.linkage);
  EXPECT_EQ(p.new_data_allowed, row.new_data);
  EXPECT_EQ(p.recontact_allowed, row.recontact);
  EXPECT_EQ(p.primary_findings_return, row.primary_findings);
  EXPECT_EQ(p.secondary_findings, row.secondary);
  EXPECT_EQ(p.designated_relative, row.relative);
  EXPECT_EQ(p.residual_sample_storage, row.residual);
}

// No contact: the ledger writes C09-C13 as deny; the rows mirror that.
const Decisions kNoContact = {
    {"C09", "deny"}, {"C10", "deny"}, {"C11", "deny"}, {"C12", "deny"}, {"C13", "deny"}};

INSTANTIATE_TEST_SUITE_P(
    Rows, ProfileRowTest,
    ::testing::Values(ProfileRow{"cancer_all_permit",
                                 "cancer",
                                 {},
                                 "",
                                 {"GRU", "CC"},
                                 true,
                                 true,
                                 true,
                                 true,
                                 "want",
                                 true,
                                 true},
                      ProfileRow{"cancer_opt_items_denied",
                                 "cancer",
                                 {{"C07", "deny"},
                                  {"C09", "deny"},
                                  {"C10", "deny"},
                                  {"C11", "deny"},
                                  {"C12", "deny"},
                                  {"C13", "deny"},
                                  {"C14", "deny"}},
                                 "",
                                 {"GRU"},
                                 false,
                                 true,
                                 false,
                                 false,
                                 "dont_want",
                                 false,
                                 false},
                      ProfileRow{"cancer_undecided_counts_as_no",
                                 "cancer",
                                 {{"C07", "undecided"}, {"C10", "undecided"}, {"C12", "deny"}},
                                 "",
                                 {"GRU", "CC"},
                                 false,
                                 true,
                                 true,
                                 true,
                                 "undecided",
                                 true,
                                 true},
                      ProfileRow{"rd_all_permit",
                                 "rare_disease",
                                 {},
                                 "",
                                 {"GRU", "CC"},
                                 true,
                                 true,
                                 true,
                                 true,
                                 "want",
                                 true,
                                 true},
                      ProfileRow{"rd_no_broad_research",
                                 "rare_disease",
                                 {{"C04", "deny"}},
                                 "",
                                 {"HMB", "CC"},
                                 true,
                                 true,
                                 true,
                                 true,
                                 "want",
                                 true,
                                 true},
                      ProfileRow{"rd_no_industry",
                                 "rare_disease",
                                 {{"C05", "deny"}},
                                 "",
                                 {"GRU", "NCU", "NPU", "CC"},
                                 true,
                                 true,
                                 true,
                                 true,
                                 "want",
                                 true,
                                 true},
                      ProfileRow{"rd_no_overseas",
                                 "rare_disease",
                                 {{"C06", "deny"}},
                                 "",
                                 {"GRU", "GS", "CC"},
                                 true,
                                 true,
                                 true,
                                 true,
                                 "want",
                                 true,
                                 true},
                      ProfileRow{
                          "rd_restrictive",
                          "rare_disease",
                          {{"C04", "deny"}, {"C05", "deny"}, {"C06", "deny"}, {"C09", "deny"}},
                          "",
                          {"HMB", "NCU", "NPU", "GS"},
                          true,
                          true,
                          true,
                          false,
                          "want",
                          true,
                          true},
                      ProfileRow{"cancer_no_contact",
                                 "cancer",
                                 kNoContact,
                                 "no_contact",
                                 {"GRU"},
                                 true,
                                 true,
                                 false,
                                 false,
                                 "dont_want",
                                 false,
                                 true},
                      ProfileRow{"cancer_no_new_data",
                                 "cancer",
                                 {},
                                 "no_new_data",
                                 {"GRU", "CC"},
                                 false,
                                 false,
                                 true,
                                 true,
                                 "want",
                                 true,
                                 true},
                      ProfileRow{"cancer_full",
                                 "cancer",
                                 {},
                                 "full",
                                 {},
                                 false,
                                 false,
                                 false,
                                 false,
                                 "dont_want",
                                 false,
                                 false}),
    [](const auto& info) { return info.param.name; });

TEST(Profile, NoRecordMeansNoUseAndDsCarriesTheDisease) {
  const auto none = DeriveProfile(std::nullopt, DefaultCatalogue("cancer"), "lung");
  EXPECT_FALSE(none.any_use);
  EXPECT_TRUE(none.duo.empty());
  EXPECT_FALSE(Match(none, {}).allowed);

  auto items = DefaultCatalogue("rare_disease");
  items[2].duo = "DS";  // a disease-specific scope item
  const auto p = DeriveProfile(MakeRecord("rare_disease", {{"C04", "deny"}}, ""), items, "lung");
  EXPECT_EQ(p.primary, "DS");
  EXPECT_EQ(p.disease, "lung");
  EXPECT_EQ(p.duo.front(), "DS");
  EXPECT_EQ(ProfileJson(p)["duo_ids"][0], "DUO:0000007");
}

struct MatchRow {
  std::string name;
  std::vector<std::string> duo;  // primary first
  std::string disease;
  Purpose purpose;
  bool allowed;
};

class MatchRowTest : public ::testing::TestWithParam<MatchRow> {};

TEST_P(MatchRowTest, FollowsGa4ghMatchingRules) {
  const MatchRow& row = GetParam();
  DataUseProfile p;
  p.any_use = true;
  p.duo = row.duo;
  p.primary = row.duo.empty() ? "" : row.duo.front();
  p.disease = row.disease;
  const Decision d = Match(p, row.purpose);
  EXPECT_EQ(d.allowed, row.allowed) << d.reason;
  EXPECT_FALSE(d.reason.empty());
}

using K = Purpose::Kind;
INSTANTIATE_TEST_SUITE_P(
    Rows, MatchRowTest,
    ::testing::Values(
        MatchRow{"gru_serves_general", {"GRU"}, "", {.category = "GRU"}, true},
        MatchRow{"hmb_refuses_general", {"HMB"}, "", {.category = "GRU"}, false},
        MatchRow{"ds_refuses_general", {"DS"}, "lung", {.category = "GRU"}, false},
        MatchRow{"gru_serves_health", {"GRU"}, "", {.category = "HMB"}, true},
        MatchRow{"hmb_serves_health", {"HMB"}, "", {.category = "HMB"}, true},
        MatchRow{"ds_refuses_health", {"DS"}, "lung", {.category = "HMB"}, false},
        MatchRow{"gru_serves_disease", {"GRU"}, "", {.category = "DS", .disease = "lung"}, true},
        MatchRow{"hmb_serves_disease", {"HMB"}, "", {.category = "DS", .disease = "lung"}, true},
        MatchRow{"ds_same_disease", {"DS"}, "lung", {.category = "DS", .disease = "lung"}, true},
        MatchRow{
            "ds_other_disease", {"DS"}, "lung", {.category = "DS", .disease = "colorectal"}, false},
        MatchRow{"no_scope", {}, "", {.category = "HMB"}, false},
        MatchRow{"commercial_vs_ncu", {"GRU", "NCU", "NPU"}, "", {.commercial = true}, false},
        MatchRow{"commercial_vs_npuncu", {"GRU", "NPUNCU"}, "", {.commercial = true}, false},
        MatchRow{"commercial_allowed", {"GRU", "GS"}, "", {.commercial = true}, true},
        MatchRow{"noncommercial_vs_ncu", {"GRU", "NCU", "NPU"}, "", {}, true},
        MatchRow{"overseas_vs_gs", {"HMB", "GS"}, "", {.overseas = true}, false},
        MatchRow{"overseas_allowed", {"HMB", "NCU"}, "", {.overseas = true}, true},
        MatchRow{"methods_gru_with_nmds", {"GRU", "NMDS"}, "", {.methods_development = true}, true},
        MatchRow{"methods_hmb_without_nmds", {"HMB"}, "", {.methods_development = true}, true},
        MatchRow{
            "methods_hmb_with_nmds", {"HMB", "NMDS"}, "", {.methods_development = true}, false},
        MatchRow{"methods_ds_match_with_nmds",
                 {"DS", "NMDS"},
                 "lung",
                 {.category = "DS", .disease = "lung", .methods_development = true},
                 true},
        MatchRow{"all_conditions_must_hold",
                 {"GRU", "GS"},
                 "",
                 {.category = "HMB", .commercial = true, .overseas = true},
                 false}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace zengen::consent
