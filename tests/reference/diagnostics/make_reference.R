# Reference values for the model checks of lerendtransformeren.multilevel:
# fitted values and residuals (MultilevelResult / GLMMResult .fitted(), .residuals()) and the
# influence of top-level units (multilevel/influence.py), tests/multilevel/test_ml_diagnostics.py.
#
# Data: the CSVs of tests/reference/multilevel (make_data.py there) and tests/reference/glmm.
# Fits with lme4::lmer / lmerTest (REML, bobyqa with rhoend = 1e-12) and lme4::glmer
# (Laplace; both stages bobyqa with rhoend = 1e-12, tolPwrss = 1e-13).
#
# Stored per case:
#   rows: the data rows used (0-based positions; rows with a missing value are left out);
#   fitted: fitted(m) (conditional, response scale);
#   residuals: residuals(m, type = ...) for "response" and "pearson" (linear models; R's
#     Pearson residuals of an lmerMod are not scaled, so also "pearson_scaled" =
#     residuals(m, type = "pearson", scaled = TRUE), the raw residual over sigma) or
#     "deviance", "pearson", "response", "working" (GLMMs).
#   influence (for some cases): each unit of the top level deleted in turn and the model
#     refitted with the same call on the remaining rows. influence.ME is not installed, so
#     its formulas are computed here by hand from the refits (influence.ME 0.9,
#     Nieuwenhuis, te Grotenhuis & Pelzer 2012):
#       dfbetas_jk = (beta_k - beta_k(-j)) / se_k(-j)   [dfbetas.estex: se of the deleted fit]
#       cooks_j    = (beta - beta(-j))' V^-1 (beta - beta(-j)) / p   [cooks.distance.estex:
#                    V = vcov(m) of the full fit, p fixed effects]
#     HLMdiag's case-deletion Cook's distance for a deleted group is the same quadratic form
#     (X'V^-1X = vcov^-1). Also stored: beta(-j), its model-based se (sqrt diag vcov), the
#     p-values of the deleted fit (lmerTest Satterthwaite t-tests; glmer Wald z-tests).
#
# Run from the repository root:  Rscript tests/reference/diagnostics/make_reference.R
# Made with R 4.2.2, lme4 1.1-31, lmerTest 3.1 (Debian's r-cran-* packages).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
})

here <- "tests/reference/diagnostics"
read <- function(path) read.csv(file.path("tests/reference", path), stringsAsFactors = TRUE)
# bobyqa with rhoend = 1e-12: nloptwrap stops about 5e-8 above the REML optimum whatever its
# tolerances, and fitted values then differ in the fifth decimal; with these settings lme4's
# criterion matches the nested engine's to 1e-10 and its estimates to about 1e-7.
lctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
                     check.conv.singular = "ignore")
gctrl <- glmerControl(optimizer = c("bobyqa", "bobyqa"), tolPwrss = 1e-13, check.conv.singular = "ignore",
                      optCtrl = list(rhoend = 1e-12, maxfun = 1e5))

fit_one <- function(cs, d) {
  if (is.null(cs$family)) {
    lmerTest::lmer(cs$r, data = d, REML = TRUE, control = lctrl)
  } else {
    glmer(cs$r, data = d, family = cs$family, control = gctrl)
  }
}

p_values <- function(m) {
  co <- summary(m)$coefficients
  unname(co[, ncol(co)])
}

influence_by <- function(cs, d, m) {
  unit <- cs$influence
  beta <- fixef(m)
  V <- as.matrix(vcov(m))
  units <- sort(as.character(unique(d[[unit]])))
  rows <- lapply(units, function(u) {
    dj <- droplevels(d[as.character(d[[unit]]) != u, ])
    mj <- fit_one(cs, dj)
    bj <- fixef(mj)
    sej <- sqrt(diag(as.matrix(vcov(mj))))
    delta <- beta - bj
    list(unit = u, estimate = unname(bj), se = unname(sej), p = p_values(mj),
         dfbetas = unname(delta / sej),
         cooks = as.numeric(t(delta) %*% solve(V) %*% delta) / length(beta),
         nobs = nobs(mj), singular = isSingular(mj, tol = 1e-4))
  })
  list(level = unit, term = names(beta), units = rows)
}

cases <- list(
  nest3 = list(data = "multilevel/nest.csv", r = y ~ wave * offer + ses + size + (1 | org/team/resp),
               py = "y ~ wave * offer + ses + size + (1 | org/team/resp)", influence = "org"),
  slope_org = list(data = "multilevel/slope.csv", r = y ~ wave + x + (1 + wave | org) + (1 | resp),
                   py = "y ~ wave + x + (1 + wave | org) + (1 | resp)", influence = "org"),
  bin3 = list(data = "glmm/nested.csv", r = y_bin ~ wave + offer + x + (1 | organisation/team),
              py = "y_bin ~ wave + offer + x + (1 | organisation/team)", family = "binomial",
              influence = "organisation"),
  pois = list(data = "glmm/nested.csv", r = y_cnt ~ wave + offer + (1 | organisation/team),
              py = "y_cnt ~ wave + offer + (1 | organisation/team)", family = "poisson")
)

out <- list()
for (name in names(cases)) {
  cs <- cases[[name]]
  d <- read(cs$data)
  m <- fit_one(cs, d)
  types <- if (is.null(cs$family)) c("response", "pearson") else c("deviance", "pearson", "response", "working")
  res <- lapply(setNames(types, types), function(t) unname(residuals(m, type = t)))
  if (is.null(cs$family)) res$pearson_scaled <- unname(residuals(m, type = "pearson", scaled = TRUE))
  o <- list(data = cs$data, formula = cs$py, family = if (is.null(cs$family)) "gaussian" else cs$family,
            rows = as.integer(names(fitted(m))) - 1L, term = names(fixef(m)), estimate = unname(fixef(m)),
            se = unname(sqrt(diag(as.matrix(vcov(m))))), p = p_values(m),
            theta = unname(getME(m, "theta")), loglik = as.numeric(logLik(m)),
            sigma = sigma(m), fitted = unname(fitted(m)), residuals = res)
  if (!is.null(cs$influence)) o$influence <- influence_by(cs, d, m)
  out[[name]] <- o
}
out$`_meta` <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                    lmerTest = as.character(packageVersion("lmerTest")))
writeLines(toJSON(out, digits = I(12), auto_unbox = TRUE, pretty = FALSE),
           file.path(here, "diagnostics_reference.json"))
