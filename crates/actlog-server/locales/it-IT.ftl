# actlog — Italiano (Italia)
product-name = actlog
cloud-public = Cloud commerciale
cloud-usgov = Cloud US Government
skip-to-content = Vai al contenuto
nav-account-settings = Impostazioni account
nav-activity-log = Log attività
nav-signed-in-as = Accesso eseguito come { $email }
nav-sign-out = Esci
nav-language = Lingua

sign-in-title = Accedi
sign-in-intro = Accedi con il tuo account partner.
sign-in-email = Email
sign-in-password = Password
sign-in-submit = Accedi
sign-in-failed = L'email o la password non sono corrette.
sign-in-throttled = Troppi tentativi non riusciti. Riprova tra { $minutes ->
    [one] un minuto
   *[other] { $minutes } minuti
}.
sign-in-expired-form = Il modulo è scaduto. Accedi di nuovo.
signed-out = Sei uscito.

home-title = Benvenuto
home-intro = Scegli una pagina dal menu Impostazioni account.
home-no-pages = I tuoi ruoli non ti danno accesso a pagine qui. Chiedi a un amministratore globale uno dei ruoli che possono visualizzare il log attività.
forbidden-title = Accesso non consentito
forbidden-text = I tuoi ruoli non consentono di aprire questa pagina.
not-found-title = Pagina non trovata
not-found-text = Non esiste una pagina a questo indirizzo.
error-title = Si è verificato un errore
error-text = Il server non ha potuto completare la richiesta. L'errore è stato registrato; riprova.
