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
sign-in-expired-form = The form expired. Please sign in again.
signed-out = You have signed out.

home-title = Welcome
home-intro = Choose a page from the Account settings menu.
home-no-pages = Your roles give you no pages here. Ask a Global admin for one of the roles that may view the activity log.
forbidden-title = Not allowed
forbidden-text = Your roles do not allow this page.
not-found-title = Page not found
not-found-text = There is no page at this address.
error-title = Something went wrong
error-text = The server could not complete the request. It has been logged; please try again.
