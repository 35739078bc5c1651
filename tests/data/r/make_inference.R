# References for the fixed-effect tests, intervals and prediction standard
# errors of issue 21 (tests/frontend/inference.rs), computed with R's lme4,
# lmerTest and pbkrtest (Debian packages r-cran-lme4, r-cran-lmertest,
# r-cran-pbkrtest). Nothing in CI runs this; its output is checked in as
# tests/data/inference/references.json (and the unbalanced data set it
# derives from john_alpha.csv as tests/data/inference/john_alpha_unbalanced.csv).
#
#   Rscript tests/data/r/make_inference.R      (from the repository root)
#
# For each model: lmerTest's anova() with Satterthwaite and Kenward-Roger
# denominator df (type III; the models have no interactions, so each term's
# test is "its coefficients are 0"), the coefficient t tests of summary()
# with both methods, pbkrtest's adjusted covariance of beta (vcovAdj),
# lme4's confint(method = "Wald") for the fixed effects and, for sleepstudy
# and Penicillin, confint(method = "profile") (REML profile, SD scale).
# Prediction standard errors (sleepstudy, Penicillin, the new-data files of
# make_predict.R): population sqrt(x' vcov(beta) x); conditional sqrt(w' C w)
# with w = (x, z) and C = s2 * [X'X X'Z; Z'X Z'Z + s2 G^-1]^-1, the
# covariance of (beta_hat - beta, u_hat - u) from Henderson's equations, at
# lme4's estimates; a level the fit has not seen contributes no z entry.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(jsonlite)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))
ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(ftol_abs = 1e-15, xtol_abs = 1e-13,
                                   ftol_rel = 1e-15, xtol_rel = 1e-13,
                                   maxeval = 100000),
                    calc.derivs = FALSE)
read <- function(file) read.csv(file, stringsAsFactors = TRUE)

# An unbalanced alpha lattice: john.alpha without every 7th plot.
ja <- read("tests/data/john_alpha.csv")
ja_unbal <- ja[seq_len(nrow(ja)) %% 7 != 0, ]
write.csv(ja_unbal, "tests/data/inference/john_alpha_unbalanced.csv", row.names = FALSE, quote = FALSE)

rows_of <- function(tab, cols) lapply(setNames(seq_len(nrow(tab)), rownames(tab)), function(i)
  setNames(lapply(cols, function(c) unname(tab[i, c])), names(cols)))

tests <- function(m) {
  av <- function(ddf) rows_of(as.data.frame(anova(m, ddf = ddf)),
    c(num_df = "NumDF", den_df = "DenDF", f = "F value", p_value = "Pr(>F)"))
  co <- function(ddf) rows_of(as.data.frame(coef(summary(m, ddf = ddf))),
    c(estimate = "Estimate", se = "Std. Error", df = "df", t = "t value", p_value = "Pr(>|t|)"))
  list(
    anova = list(satterthwaite = av("Satterthwaite"), kenward_roger = av("Kenward-Roger")),
    coefficients = list(satterthwaite = co("Satterthwaite"), kenward_roger = co("Kenward-Roger")),
    vcov = unname(as.matrix(vcov(m))),
    vcov_kr = unname(as.matrix(pbkrtest::vcovAdj(m))),
    wald = rows_of(confint(m, method = "Wald", parm = "beta_"), c(lower = "2.5 %", upper = "97.5 %")))
}

znew <- function(fit, newdata) {
  Z <- getME(fit, "Z"); Gp <- getME(fit, "Gp"); cnms <- getME(fit, "cnms"); fl <- getME(fit, "flist")
  Zn <- matrix(0, nrow(newdata), ncol(Z))
  for (i in seq_along(cnms)) {
    g <- names(cnms)[i]; levs <- levels(fl[[g]]); nc <- length(cnms[[i]])
    for (r in seq_len(nrow(newdata))) {
      l <- match(as.character(newdata[[g]][r]), levs)
      if (is.na(l)) next
      for (a in seq_len(nc)) {
        cn <- cnms[[i]][a]
        Zn[r, Gp[i] + (l - 1) * nc + a] <- if (cn == "(Intercept)") 1 else newdata[[cn]][r]
      }
    }
  }
  Zn
}

pred_se <- function(fit, newdata) {
  X <- getME(fit, "X"); Z <- as.matrix(getME(fit, "Z")); s2 <- sigma(fit)^2
  G <- as.matrix(crossprod(getME(fit, "Lambdat"))) * s2
  C <- rbind(cbind(crossprod(X), crossprod(X, Z)),
             cbind(crossprod(Z, X), crossprod(Z) + s2 * solve(G)))
  Cinv <- solve(C) * s2
  Xn <- model.matrix(delete.response(terms(fit)), newdata)
  Zn <- znew(fit, newdata)
  W <- cbind(Xn, Zn)
  pred <- drop(W %*% c(fixef(fit), getME(fit, "b")@x))
  stopifnot(max(abs(pred - predict(fit, newdata = newdata, allow.new.levels = TRUE))) < 1e-8)
  list(predict = pred,
       se = sqrt(diag(W %*% Cinv %*% t(W))),
       predict_population = drop(Xn %*% fixef(fit)),
       se_population = sqrt(diag(Xn %*% as.matrix(vcov(fit)) %*% t(Xn))))
}

profile_ci <- function(m) rows_of(confint(m, method = "profile", oldNames = FALSE),
                                  c(lower = "2.5 %", upper = "97.5 %"))

fit <- function(file, formula) lmerTest::lmer(as.formula(formula), data = read(file), REML = TRUE, control = ctrl)

ss <- fit("tests/data/sleepstudy.csv", "Reaction ~ Days + (Days|Subject)")
pen <- fit("tests/data/Penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)")
jag <- fit("tests/data/john_alpha.csv", "yield ~ gen + (1|rep) + (1|rep:block)")
jau <- fit("tests/data/inference/john_alpha_unbalanced.csv", "yield ~ rep + gen + (1|rep:block)")
cr <- fit("tests/data/crossed_2000.csv", "y ~ 1 + x1 + (1|f1) + (1|f2)")

ss_new <- read.csv("tests/data/predict_sleepstudy_new.csv"); ss_new$Subject <- factor(ss_new$Subject)
pen_new <- read.csv("tests/data/predict_penicillin_new.csv")

out <- list(
  source = paste0(R.version.string, "; lme4 ", packageVersion("lme4"),
                  ", lmerTest ", packageVersion("lmerTest"),
                  ", pbkrtest ", packageVersion("pbkrtest"),
                  "; made by tests/data/r/make_inference.R"),
  sleepstudy = c(list(data = "sleepstudy.csv", formula = "Reaction ~ Days + (Days|Subject)"),
                 tests(ss), list(profile = profile_ci(ss), predict = pred_se(ss, ss_new))),
  penicillin = c(list(data = "Penicillin.csv", formula = "diameter ~ 1 + (1|plate) + (1|sample)"),
                 tests(pen), list(profile = profile_ci(pen), predict = pred_se(pen, pen_new))),
  john_alpha_gen = c(list(data = "john_alpha.csv", formula = "yield ~ gen + (1|rep) + (1|rep:block)"),
                     tests(jag)),
  john_alpha_unbalanced = c(list(data = "inference/john_alpha_unbalanced.csv",
                                 formula = "yield ~ rep + gen + (1|rep:block)"), tests(jau)),
  crossed_2000 = c(list(data = "crossed_2000.csv", formula = "y ~ 1 + x1 + (1|f1) + (1|f2)"), tests(cr)))
write_json(out, "tests/data/inference/references.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, null = "null", na = "null")
cat("wrote tests/data/inference/references.json\n")
