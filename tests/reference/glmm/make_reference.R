# Reference values for lerendtransformeren.multilevel.glmm (tests/multilevel/test_glmm_reference.py).
#
# Fits generalised linear mixed models with lme4::glmer (Laplace approximation, or adaptive
# Gauss-Hermite quadrature with nAGQ > 1; optimizer c("bobyqa", "Nelder_Mead"): the final
# estimates are those of the second stage, theta and beta jointly) on nested.csv and
# slope.csv (written by make_data.py). Every case is fitted twice:
#
#   * "tight": glmer with tolPwrss = 1e-12 and tight Nelder-Mead tolerances. These are the
#     reference values. With glmer's defaults (tolPwrss = 1e-7) the conditional modes are
#     converged only loosely, and the finite-difference Hessian behind vcov() (deriv12, step
#     1e-4) turns that noise into standard errors that are off by up to 0.7% (and the second
#     stage can stop up to 0.002 short in logLik); with the tight settings glmer's logLik,
#     estimates and standard errors agree with glmmTMB's to about 1e-5.
#   * "default": glmer as called by a user (summary values only), to show how close that is.
#
# Stored per case: the fixed effects (estimate, se, z, p as summary(); Wald intervals as
# confint(method = "Wald")), theta, the variance components (VarCorr), logLik, its df, AIC,
# BIC, deviance() (the sum of squared deviance residuals) and -2 logLik, isSingular (tol
# 1e-4), fitted values and predictions of the first rows, for some cases the conditional
# modes with their conditional SDs (ranef(condVar = TRUE)), and an anova() likelihood-ratio
# test of bin3_null against bin3. As a second opinion every Laplace case is also fitted
# with glmmTMB (its logLik, fixed effects and standard errors).
#
# Cases: 2-, 3- and 4-level binary random intercepts, a correlated random slope, Poisson
# with a nested intercept, adaptive quadrature (nAGQ = 9 binomial, nAGQ = 5 Poisson) for a
# single scalar intercept, a rare outcome whose organisation variance is estimated at 0
# (singular), and quasi-separation (every outcome of one organisation is 1).
#
# Run from the repository root:  Rscript tests/reference/glmm/make_reference.R
# Made with R 4.2.2, lme4 1.1-31, glmmTMB 1.1.5, jsonlite (Debian's r-cran-* packages).

suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(jsonlite)
})

here <- "tests/reference/glmm"
nested <- read.csv(file.path(here, "nested.csv"), stringsAsFactors = FALSE)
slope <- read.csv(file.path(here, "slope.csv"), stringsAsFactors = FALSE)

cases <- list(
  bin2 = list(formula = y_bin ~ wave + x + (1 | organisation), data = "nested", family = "binomial"),
  bin3 = list(formula = y_bin ~ wave + offer + x + (1 | organisation/team), data = "nested", family = "binomial",
              ranef = TRUE),
  bin3_null = list(formula = y_bin ~ wave + x + (1 | organisation/team), data = "nested", family = "binomial"),
  bin4 = list(formula = y_bin ~ wave + offer + x + (1 | organisation/team/professional), data = "nested",
              family = "binomial", ranef = TRUE),
  slope = list(formula = y ~ offer + x + (1 + offer | organisation), data = "slope", family = "binomial",
               ranef = TRUE),
  pois = list(formula = y_cnt ~ wave + offer + (1 | organisation/team), data = "nested", family = "poisson",
              ranef = TRUE),
  agq_bin = list(formula = y_bin ~ wave + x + (1 | organisation:team:professional), data = "nested",
                 family = "binomial", nAGQ = 9, ranef = TRUE),
  agq_pois = list(formula = y_cnt ~ wave + offer + (1 | organisation:team), data = "nested", family = "poisson",
                  nAGQ = 5),
  rare = list(formula = y_rare ~ wave + (1 | organisation/team/professional), data = "nested",
              family = "binomial"),
  sep = list(formula = y_sep ~ wave + x + (1 | organisation), data = "nested", family = "binomial", ranef = TRUE)
)

varcorr_table <- function(m) {
  vc <- as.data.frame(VarCorr(m))
  vc$var1[is.na(vc$var1)] <- ""
  vc$var2[is.na(vc$var2)] <- ""
  vc
}

modes <- function(m) {
  re <- ranef(m, condVar = TRUE)
  lapply(re, function(r) {
    pv <- attr(r, "postVar")
    sd <- t(sapply(seq_len(nrow(r)), function(i) sqrt(diag(as.matrix(pv[, , i])))))
    if (ncol(r) == 1) sd <- t(sd)
    list(unit = rownames(r), term = colnames(r), mode = unname(as.matrix(r)), sd = unname(sd))
  })
}

tight <- glmerControl(tolPwrss = 1e-12,
                      optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10, maxfun = 1e5))

fit_case <- function(case) {
  d <- get(case$data)
  nagq <- if (is.null(case$nAGQ)) 1 else case$nAGQ
  m0 <- glmer(case$formula, data = d, family = case$family, nAGQ = nagq)
  m <- withCallingHandlers(  # bobyqa (stage 1) ignores the Nelder-Mead settings: say nothing
    glmer(case$formula, data = d, family = case$family, nAGQ = nagq, control = tight),
    warning = function(w) if (grepl("unused control arguments", conditionMessage(w))) invokeRestart("muffleWarning"))
  cf <- summary(m)$coefficients
  ci <- confint(m, method = "Wald", parm = "beta_")
  out <- list(
    formula = paste(deparse(case$formula), collapse = ""),
    data = case$data, family = case$family, nAGQ = nagq,
    nobs = nobs(m),
    fixed = list(term = rownames(cf), estimate = unname(cf[, 1]), se = unname(cf[, 2]),
                 z = unname(cf[, 3]), p = unname(cf[, 4]),
                 ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2])),
    theta = list(name = names(getME(m, "theta")), value = unname(getME(m, "theta"))),
    varcorr = varcorr_table(m),
    loglik = as.numeric(logLik(m)), df = attr(logLik(m), "df"),
    aic = AIC(m), bic = BIC(m), deviance = deviance(m), minus2loglik = -2 * as.numeric(logLik(m)),
    singular = isSingular(m, tol = 1e-4),
    ngrps = as.list(ngrps(m)),
    messages = m@optinfo$conv$lme4$messages,
    fitted_head = unname(head(fitted(m), 10)),
    predict_link_head = unname(head(predict(m, type = "link"), 10)),
    predict_pop_head = unname(head(predict(m, re.form = NA, type = "response"), 10)),
    default = list(estimate = unname(fixef(m0)), se = unname(sqrt(diag(as.matrix(vcov(m0))))),
                   theta = unname(getME(m0, "theta")), loglik = as.numeric(logLik(m0)),
                   messages = m0@optinfo$conv$lme4$messages)
  )
  if (isTRUE(case$ranef)) out$ranef <- modes(m)
  if (nagq == 1) {
    tmb <- glmmTMB(case$formula, data = d, family = case$family)
    out$glmmTMB <- list(loglik = as.numeric(logLik(tmb)), estimate = unname(fixef(tmb)$cond),
                        se = unname(sqrt(diag(vcov(tmb)$cond))))
  }
  list(model = m, out = out)
}

fits <- lapply(cases, fit_case)
ref <- lapply(fits, function(f) f$out)

a <- anova(fits$bin3_null$model, fits$bin3$model)
ref$anova <- list(models = c("bin3_null", "bin3"), npar = a$npar, loglik = a$logLik, aic = a$AIC,
                  bic = a$BIC, deviance = a$deviance, chisq = a$Chisq[2], df = a$Df[2], p = a[["Pr(>Chisq)"]][2])
ref$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     glmmTMB = as.character(packageVersion("glmmTMB")))

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "glmm_reference.json"))
