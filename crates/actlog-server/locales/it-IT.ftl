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
sign-in-throttled-seconds = Troppi tentativi non riusciti. Riprova tra { $seconds ->
    [one] un secondo
   *[other] { $seconds } secondi
}.
sign-in-busy = Troppi accessi in verifica in questo momento. Riprova tra qualche secondo.
sign-in-expired-form = Il modulo è scaduto. Accedi di nuovo.
signed-out = Sei uscito.

sso-sign-in = Accedi con Microsoft
sso-work-email = Email di lavoro
sso-or = oppure con un account actlog:
sso-sign-out-provider = Esci anche da Microsoft
sso-local-accounts-off = L'accesso con email e password è disattivato qui. Usa Accedi con Microsoft.
sso-unknown-domain = Nessuna organizzazione che accede qui usa il dominio email { $domain }.
sso-email-needed = Inserisci la tua email di lavoro per accedere con Microsoft.
sso-provider-down = L'accesso Microsoft non è raggiungibile in questo momento. Riprova tra qualche minuto.
sso-unknown-tenant = La tua organizzazione non è configurata per accedere qui. Chiedi al tuo amministratore.
sso-expired = L'accesso è scaduto o è stato avviato in un'altra finestra. Accedi di nuovo.
sso-bad-token = Non è stato possibile verificare la risposta di Microsoft, quindi l'accesso non è avvenuto. Accedi di nuovo; se succede ancora, avvisa il tuo amministratore.
sso-denied = Microsoft non ti ha fatto accedere. Riprova.
sso-account-conflict = Il tuo account Microsoft non può essere collegato a un account actlog: un altro account usa già la tua email. Chiedi al tuo amministratore.
sso-disabled = Il tuo account è disattivato. Chiedi al tuo amministratore.

home-title = Benvenuto
home-intro = Scegli una pagina dal menu Impostazioni account.
home-no-pages = I tuoi ruoli non ti danno accesso a pagine qui. Chiedi a un amministratore globale uno dei ruoli che possono visualizzare il log attività.
forbidden-title = Accesso non consentito
forbidden-text = I tuoi ruoli non consentono di aprire questa pagina.
not-found-title = Pagina non trovata
not-found-text = Non esiste una pagina a questo indirizzo.
bad-request-title = Richiesta non comprensibile
bad-request-text = La pagina non ha potuto leggere i dati inviati. Torna indietro e riprova dal modulo.
error-title = Si è verificato un errore
error-text = Il server non ha potuto completare la richiesta. L'errore è stato registrato; riprova.

log-title = Log attività
log-intro = Che cosa è stato fatto sugli account dei tuoi clienti, dal più recente.
log-from = Da
log-to = a
log-customer = Cliente
log-customer-placeholder = Nome dell'azienda
log-operation = Azione
log-any-operation = Qualsiasi azione
log-user = Utente partner
log-user-placeholder = nome@partner.example
log-status = Stato
log-any-status = Qualsiasi stato
log-text = Cerca
log-text-placeholder = Qualsiasi parola del record
log-apply = Applica
log-reset = Cancella filtri
log-col-date = Data-ora
log-col-customer = Cliente interessato
log-col-action = Azione
log-col-user = Utente partner
log-col-expand = Dettagli
log-show-details = Mostra dettagli
log-no-customer = Nessun cliente
log-no-user = Sconosciuto
log-summary = { $count ->
    [one] Un record
   *[other] { $shown } record
} da { $from } a { $to }, orari in { $tz }.
log-summary-many = Più di { $shown } record da { $from } a { $to }, orari in { $tz }. Restringi il periodo o i filtri per contarli; Esporta log li include tutti.
log-showing = Righe { $first }–{ $last }.
log-empty = Nessuna attività in questo periodo. Prova un periodo più lungo o meno filtri.
log-load-more = Voci precedenti
log-back-to-newest = Torna ai più recenti
log-export = Esporta log
log-export-format = Tipo di file
log-export-csv = CSV (Excel)
log-export-xlsx = Cartella di lavoro Excel (.xlsx)
log-export-proof = Con prova (ZIP)
log-export-proof-hint = Un archivio ZIP del file e della sua prova: il checkpoint firmato, un manifesto firmato e la prova di inclusione di ogni record, per actlog verify-export
log-bad-date = “{ $value }” non è una data. Usa il selettore o scrivi AAAA-MM-GG.
log-reversed = La data “a” ({ $to }) è precedente alla data “Da” ({ $from }). Scegli una data “a” uguale o successiva.
log-bad-filter = I filtri non si possono applicare: { $reason }
log-bad-page = Il link alle righe successive non è più valido; ecco le righe più recenti.

details-title = Dettagli dell'azione
details-line-items = Prodotti dell'ordine
details-product = Prodotto
details-quantity = Quantità
details-subscription = Sottoscrizione
details-offer = Offerta
details-changes = Valori prima e dopo
details-field = Campo
details-old = Prima
details-new = Dopo
details-cut = Sono mostrati solo i primi campi; il record completo li contiene tutti.
details-customized = Dati aggiuntivi
details-record = Record
details-id = Id del record
details-customer-id = Id del cliente
details-operation-code = Tipo di operazione
details-resource = Risorsa
details-status = Stato
details-application = Applicazione
details-session = Sessione
details-correlation = Id di correlazione
details-date-utc = Data-ora (UTC)
details-raw = Record completo (JSON)
details-none = —
details-loading = Caricamento dei dettagli…
details-failed = Non è stato possibile caricare i dettagli. Ricarica la pagina per riprovare.

subs-title = Sottoscrizioni
subs-heading = Sottoscrizioni di { $customer }
subs-intro = Come risultano dalle transazioni registrate: ordini, modifiche, conversioni e aggiornamenti delle sottoscrizioni.
subs-product = Prodotto
subs-quantity = Quantità
subs-status = Stato
subs-last-change = Ultima modifica
subs-activity = Attività
subs-see-activity = Vedi la sua attività
subs-empty = Dai record di questo cliente non risulta alcuna sottoscrizione.
subs-customer-activity = Tutta l'attività del cliente
subs-back = Torna al log attività
subs-unknown-customer = Questo cliente non ha record.
subs-summary = { $count ->
    [one] Una sottoscrizione
   *[other] { $shown } sottoscrizioni
}, per nome del prodotto.
subs-more = Altre sottoscrizioni
subs-back-to-first = Torna alle prime
subs-bad-page = Il link alle sottoscrizioni successive non è valido; ecco le prime.

prefs-title = Preferenze
prefs-language = Lingua
prefs-language-browser = Come il browser
prefs-time-zone = Fuso orario
prefs-time-zone-browser = Come il browser
prefs-save = Salva
prefs-bad-title = Preferenze non salvate
prefs-bad-lang = Scegli inglese, italiano o la lingua del browser.
prefs-bad-tz = Fuso orario sconosciuto. Scrivi un nome IANA come Europe/Rome o America/New_York, oppure lascia vuoto per seguire il browser.
sub-status-active = Attiva
sub-status-suspended = Sospesa
sub-status-deleted = Eliminata
sub-status-pending = In sospeso
sub-status-expired = Scaduta
sub-status-disabled = Disabilitata
details-new-value = Creato con questi valori
details-old-value = Rimosso; i suoi ultimi valori

nav-change-password = Cambia password
password-title = Cambia password
password-intro = Le altre tue sessioni terminano quando cambi la password; questa resta attiva.
password-current = Password attuale
password-new = Nuova password
password-confirm = Ripeti la nuova password
password-submit = Cambia password
password-changed = La password è stata cambiata. Le altre tue sessioni sono state chiuse.
password-wrong-current = La password attuale non è corretta.
password-mismatch = La nuova password e la sua ripetizione sono diverse.
password-too-short = La nuova password deve avere almeno 10 caratteri.
password-too-long = La nuova password deve avere al massimo 1024 caratteri.
password-throttled = Troppi tentativi non riusciti. Riprova più tardi.
