package api_test

import (
	"testing"

	"github.com/papi-hcmc/papi/store/storetest"
)

// TestAPIOnPostgres runs the core flows again with the store on PostgreSQL:
// a resident's submission and its retries, the staff scopes, summaries and
// their downloads, the comparison, receipts, accounts, the import, the
// review list and a failed audit write. The whole suite runs on PostgreSQL
// with PAPI_TEST_ENGINE=postgres (about three times as long as on SQLite);
// this subset keeps the normal run short while every store query the API
// leans on meets both engines.
func TestAPIOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL run of the api flows: skipped with -short")
	}
	if storetest.Engine(t) == storetest.Postgres {
		t.Skip("the whole suite runs on PostgreSQL already (PAPI_TEST_ENGINE=postgres)")
	}
	storetest.RequirePostgres(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"ResidentPath", TestResidentPath},
		{"BadSubmissions", TestBadSubmissions},
		{"SubmissionModulesChecked", TestSubmissionModulesChecked},
		{"SubmissionWithAssignment", TestSubmissionWithAssignment},
		{"StaffAccess", TestStaffAccess},
		{"SummaryAndDownloads", TestSummaryAndDownloads},
		{"SmallAreaOverHTTP", TestSmallAreaOverHTTP},
		{"Channels", TestChannels},
		{"ReceiptIssuing", TestReceiptIssuing},
		{"AccountAPI", TestAccountAPI},
		{"ImportEndpoint", TestImportEndpoint},
		{"FlagReview", TestFlagReview},
		{"CentreLifecycle", TestCentreLifecycle},
		{"ReadEventsAuditedFirst", TestReadEventsAuditedFirst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PAPI_TEST_ENGINE", storetest.Postgres)
			tc.test(t)
		})
	}
}
