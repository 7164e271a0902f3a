# actlog — English (United States)
product-name = actlog
cloud-public = Commercial cloud
cloud-usgov = US Government cloud
skip-to-content = Skip to content
nav-account-settings = Account settings
nav-activity-log = Activity log
nav-signed-in-as = Signed in as { $email }
nav-sign-out = Sign out
nav-language = Language

sign-in-title = Sign in
sign-in-intro = Sign in with your partner account.
sign-in-email = Email
sign-in-password = Password
sign-in-submit = Sign in
sign-in-failed = The email or password is incorrect.
sign-in-throttled = Too many failed attempts. Try again in { $minutes ->
    [one] one minute
   *[other] { $minutes } minutes
}.
sign-in-throttled-seconds = Too many failed attempts. Try again in { $seconds ->
    [one] one second
   *[other] { $seconds } seconds
}.
sign-in-busy = Too many sign-ins are being checked right now. Please try again in a few seconds.
sign-in-expired-form = The form expired. Please sign in again.
signed-out = You have signed out.

sso-sign-in = Sign in with Microsoft
sso-work-email = Work email
sso-or = or with an actlog account:
sso-sign-out-provider = Also sign out of Microsoft
sso-local-accounts-off = Sign-in with an email and password is turned off here. Use Sign in with Microsoft.
sso-unknown-domain = No organization that signs in here uses the email domain { $domain }.
sso-email-needed = Enter your work email to sign in with Microsoft.
sso-provider-down = Microsoft sign-in cannot be reached right now. Please try again in a few minutes.
sso-unknown-tenant = Your organization is not set up to sign in here. Ask your administrator.
sso-expired = The sign-in expired or was started in another window. Please sign in again.
sso-bad-token = Microsoft's answer could not be verified, so you are not signed in. Please sign in again; if it happens again, tell your administrator.
sso-denied = Microsoft did not sign you in. Please try again.
sso-account-conflict = Your Microsoft account cannot be linked to an actlog account: another account already uses your email. Ask your administrator.
sso-disabled = Your account is disabled. Ask your administrator.

home-title = Welcome
home-intro = Choose a page from the Account settings menu.
home-no-pages = Your roles give you no pages here. Ask a Global admin for one of the roles that may view the activity log.
forbidden-title = Not allowed
forbidden-text = Your roles do not allow this page.
not-found-title = Page not found
not-found-text = There is no page at this address.
bad-request-title = Request not understood
bad-request-text = The page could not read what was sent. Go back and try again from the form.
error-title = Something went wrong
error-text = The server could not complete the request. It has been logged; please try again.

log-title = Activity log
log-intro = What was done on your customers' accounts, newest first.
log-from = From
log-to = To
log-customer = Customer
log-customer-placeholder = Company name
log-operation = Action
log-any-operation = Any action
log-user = Partner user
log-user-placeholder = name@partner.example
log-status = Status
log-any-status = Any status
log-text = Search
log-text-placeholder = Any word in the record
log-apply = Apply
log-reset = Clear filters
log-col-date = Date-Time
log-col-customer = Affected customer
log-col-action = Action
log-col-user = Partner user
log-col-expand = Details
log-show-details = Show details
log-no-customer = No customer
log-no-user = Unknown
log-summary = { $count ->
    [one] One record
   *[other] { $shown } records
} from { $from } to { $to }, times in { $tz }.
log-summary-many = More than { $shown } records from { $from } to { $to }, times in { $tz }. Narrow the period or the filters to count them; Export log includes them all.
log-showing = Showing { $first }–{ $last }.
log-empty = No activity in this period. Try a longer period or fewer filters.
log-load-more = Older entries
log-back-to-newest = Back to the newest
log-export = Export log
log-export-format = File type
log-export-csv = CSV (Excel)
log-export-xlsx = Excel workbook (.xlsx)
log-export-proof = With proof (ZIP)
log-export-proof-hint = A ZIP archive of the file and its proof bundle: the signed checkpoint, a signed manifest and every record's inclusion proof, for actlog verify-export
log-bad-date = “{ $value }” is not a date. Use the date picker or write YYYY-MM-DD.
log-reversed = “To” ({ $to }) is before “From” ({ $from }). Choose a To date on or after the From date.
log-bad-filter = The filters cannot be used: { $reason }
log-bad-page = The link to further rows is no longer valid; showing the newest rows.

details-title = Details of this action
details-line-items = Products in this order
details-product = Product
details-quantity = Quantity
details-subscription = Subscription
details-offer = Offer
details-changes = Values before and after
details-field = Field
details-old = Before
details-new = After
details-cut = Only the first fields are shown; the raw record has them all.
details-customized = Additional data
details-record = Record
details-id = Record id
details-customer-id = Customer id
details-operation-code = Operation type
details-resource = Resource
details-status = Status
details-application = Application
details-session = Session
details-correlation = Correlation id
details-date-utc = Date-Time (UTC)
details-raw = Raw record (JSON)
details-none = —
details-loading = Loading the details…
details-failed = The details could not be loaded. Reload the page to try again.

subs-title = Subscriptions
subs-heading = Subscriptions of { $customer }
subs-intro = As known from the recorded transactions: orders, subscription updates, conversions and upgrades.
subs-product = Product
subs-quantity = Quantity
subs-status = Status
subs-last-change = Last change
subs-activity = Activity
subs-see-activity = See its activity
subs-empty = No subscriptions are known from this customer's records.
subs-customer-activity = All activity of this customer
subs-back = Back to the activity log
subs-unknown-customer = This customer has no records.
subs-summary = { $count ->
    [one] One subscription
   *[other] { $shown } subscriptions
}, by product name.
subs-more = More subscriptions
subs-back-to-first = Back to the first
subs-bad-page = The link to further subscriptions is not valid; showing the first ones.

prefs-title = Preferences
prefs-language = Language
prefs-language-browser = As the browser
prefs-time-zone = Time zone
prefs-time-zone-browser = As the browser
prefs-save = Save
prefs-bad-title = Preferences not saved
prefs-bad-lang = Choose English, Italian, or the browser's language.
prefs-bad-tz = That time zone is unknown. Write an IANA name such as Europe/Rome or America/New_York, or leave it empty to follow the browser.
sub-status-active = Active
sub-status-suspended = Suspended
sub-status-deleted = Deleted
sub-status-pending = Pending
sub-status-expired = Expired
sub-status-disabled = Disabled
details-new-value = Created with these values
details-old-value = Removed; its last values

nav-change-password = Change password
password-title = Change password
password-intro = Your other sessions end when the password changes; this one stays signed in.
password-current = Current password
password-new = New password
password-confirm = Repeat the new password
password-submit = Change password
password-changed = Your password has been changed. Your other sessions have been signed out.
password-wrong-current = The current password is incorrect.
password-mismatch = The new password and its repetition differ.
password-too-short = The new password must have at least 10 characters.
password-too-long = The new password must have at most 1024 characters.
password-throttled = Too many failed attempts. Try again later.
